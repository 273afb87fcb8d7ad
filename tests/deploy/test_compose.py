"""No docker engine runs here: check that the compose deployment is consistent with the code."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def _compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_declares_the_stack():
    services = _compose()["services"]
    assert {"postgres", "redis", "web", "worker-cpu", "worker-gpu", "orthanc"} <= set(services)
    assert services["worker-gpu"]["profiles"] == ["gpu"]
    gpu = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["driver"] == "nvidia"
    assert "gpu" in gpu["capabilities"]
    for name in ("web", "worker-cpu", "worker-gpu"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:")
        assert env["DJANGO_SETTINGS_MODULE"] == "readerstudy.settings.production"


def test_every_service_command_is_handled_by_the_entrypoint():
    entrypoint = (DOCKER / "entrypoint.sh").read_text()
    roles = set(re.findall(r"^\s{2}([a-z-]+)\)$", entrypoint, flags=re.M))
    for name, service in _compose()["services"].items():
        if "command" in service and name not in ("redis",):
            assert service["command"][0] in roles, name


def test_entrypoint_workers_consume_the_configured_queues():
    from django.conf import settings

    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    entrypoint = (DOCKER / "entrypoint.sh").read_text()
    consumed = set()
    for match in re.findall(r"--queues ([\w,-]+)", entrypoint):
        consumed.update(match.split(","))
    assert consumed == declared == {"default", "inference-cpu", "inference-gpu"}
    assert "-A readerstudy.celery" in entrypoint
    import readerstudy.celery

    assert readerstudy.celery.app.main == "readerstudy"


def test_dockerfile_copies_what_exists_and_runs_as_non_root():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, flags=re.M)
    assert {"build", "runtime", "worker-gpu"} <= set(stages)
    for source in re.findall(r"^COPY (?:--chown=\S+ )?(?!--from)(.+) \S+$", dockerfile, flags=re.M):
        for path in source.split():
            assert (ROOT / path).exists(), f"Dockerfile copies missing {path}"
    assert dockerfile.count("USER readerstudy") >= 2
    for target in ("runtime", "worker-gpu"):
        assert target in {
            s["build"]["target"] for s in _compose()["services"].values() if "build" in s
        }


def test_compose_variables_are_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    text = (DOCKER / "compose.yaml").read_text()
    variables = set(re.findall(r"\$\{([A-Z_0-9]+)", text))
    missing = sorted(v for v in variables if f"`{v}`" not in readme)
    assert not missing, f"document these in README.md: {missing}"
