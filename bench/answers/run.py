"""50 concurrent simulated readers submitting answers against gunicorn + PostgreSQL.

Each reader logs in, then for each of its assignments: start, submit-and-lock, and (to simulate
double clicks / retries) re-sends the same submission with the same client request id. At the
end the database is checked: every assignment locked, exactly one submitted revision each.

    TEST_DATABASE_URL=postgres://readerstudy:readerstudy@127.0.0.1:5432/readerstudy \
        .venv/bin/python bench/answers/run.py --readers 50 --cases 20 --workers 4
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_database(db_url: str, n_readers: int, n_cases: int) -> int:
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "readerstudy.settings.base"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from readerstudy.accounts.models import Role
    from readerstudy.accounts.services import ensure_user
    from readerstudy.cases.models import Case, Series
    from readerstudy.studies import services
    from readerstudy.studies.models import Design

    tag = uuid.uuid4().hex[:8]
    cases = []
    for i in range(n_cases):
        case = Case.objects.create(code=f"B{tag}{i:04d}", source_key=f"{tag}{i:056d}")
        Series.objects.create(
            case=case, study_instance_uid=f"2.25.{tag}.{i}", series_instance_uid=f"2.25.{tag}.{i}.1",
            modality="CT", rows=512, columns=512, num_slices=30, pixel_spacing_row=0.5,
            pixel_spacing_col=0.5, slice_spacing=5, orientation=[1, 0, 0, 0, 1, 0], origin=[0, 0, 0],
            content_hash="0" * 64,
        )  # fmt: skip
        cases.append(case)
    study = services.create_study(
        title=f"bench {tag}", design=Design.UNAIDED_ONLY, randomization_seed=1
    )
    services.add_cases(study, cases)
    for r in range(n_readers):
        user = ensure_user(username=f"bench-{tag}-{r}", password="bench-password", role=Role.READER)
        services.enroll_reader(study, user)
    services.open_study(study)
    return study.pk


def reader_loop(base, username, study_id, latencies, failures):
    import requests

    s = requests.Session()
    s.get(f"{base}/accounts/login/")
    r = s.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": "bench-password",
            "csrfmiddlewaretoken": s.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
    )
    if r.status_code != 200:
        failures.append(f"login {username}: {r.status_code}")
        return
    headers = {"X-CSRFToken": s.cookies["csrftoken"], "Referer": base}
    while True:
        nxt = s.get(f"{base}/api/reading/studies/{study_id}/next/").json()
        if nxt["done"]:
            return
        aid = nxt["assignment"]["id"]
        s.post(f"{base}/api/reading/assignments/{aid}/start/", headers=headers)
        body = {
            "answers": {"diagnosis": "sich", "confidence": 30},
            "client_request_id": uuid.uuid4().hex,
            "lock": True,
            "active_ms": 1234,
        }
        for attempt in range(2):  # the second is a duplicate (double click / retry)
            t0 = time.perf_counter()
            r = s.post(f"{base}/api/reading/assignments/{aid}/submit/", json=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            if r.status_code not in (200, 201):
                failures.append(
                    f"{username} submit {aid} attempt {attempt}: {r.status_code} {r.text[:200]}"
                )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    db_url = os.environ.get(
        "TEST_DATABASE_URL", "postgres://readerstudy:readerstudy@127.0.0.1:5432/readerstudy"
    )
    study_id = setup_database(db_url, args.readers, args.cases)
    from readerstudy.accounts.models import User

    usernames = list(
        User.objects.filter(study_enrolments__study_id=study_id).values_list("username", flat=True)
    )
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "readerstudy.settings.base",
           "READERSTUDY_DATA_DIR": tempfile.mkdtemp(prefix="bench-answers-")}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "readerstudy.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--worker-class", "gthread", "--threads", "8", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        import requests

        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        latencies, failures = [], []
        threads = [
            threading.Thread(target=reader_loop, args=(base, u, study_id, latencies, failures))
            for u in usernames
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()

    from django.db.models import Count, Q

    from readerstudy.studies.models import Assignment

    rows = Assignment.objects.filter(study_id=study_id).annotate(
        submits=Count("revisions", filter=Q(revisions__kind="submit")),
        locks=Count("revisions", filter=Q(revisions__kind="lock")),
    )
    total = rows.count()
    lost = rows.exclude(state="locked").count() + rows.filter(submits=0).count()
    duplicated = rows.filter(Q(submits__gt=1) | Q(locks__gt=1)).count()
    ms = sorted(x * 1000 for x in latencies)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    print(
        f"readers={len(usernames)} assignments={total} submit requests={len(ms)} (half duplicates) wall={wall:.1f}s"
    )
    print(
        f"submit latency ms: p50={statistics.median(ms):.1f} p90={p(0.9):.1f} p99={p(0.99):.1f} max={ms[-1]:.1f}"
    )
    print(f"lost={lost} duplicated={duplicated} failures={len(failures)}")
    for f in failures[:5]:
        print("  ", f)


if __name__ == "__main__":
    main()
