"""Study bundle export and import time, and the bundle's size, for a large closed study.

The study is built through the study services (create, add cases, enrol, configure the model,
open: the stored per-reader orders), then every read gets a draft and a locked answer written
with ``bulk_create`` (the reading API's cost is bench/answers' subject, not this one's), a model
output per case, and the study is closed. Timed are the functions the management commands run:
``export_bundle`` (``export_study_bundle``) on the source database and ``import_bundle``
(``import_study_bundle``) into an empty, migrated second database, each in its own process.

    .venv/bin/python bench/bundle/run.py                                  # 100 x 2,000 x 2
    .venv/bin/python bench/bundle/run.py --readers 10 --cases 200         # smaller
    .venv/bin/python bench/bundle/run.py --db postgres://u:p@host/name    # PostgreSQL (two DBs:
                                                                          # name_src, name_dst)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "readerstudy.settings.base"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(readers: int, cases: int) -> int:
    """The closed study: returns its id."""
    import hashlib
    import random

    from django.utils import timezone

    from readerstudy.accounts.models import Role, User
    from readerstudy.ai.models import InferenceJob, InferenceOutput, ModelVersion
    from readerstudy.cases.models import Case, GroundTruth, Series
    from readerstudy.reading.models import AnswerRevision
    from readerstudy.studies import services
    from readerstudy.studies.models import Assignment, Design

    rng = random.Random(7)
    model = ModelVersion.objects.create(
        model_id="bench_bundle", version="1.0.0", name="bench", manifest={},
        weights_sha256="0" * 64, positive_label="cvst_ich",
        operating_points={"high_sensitivity": 0.3, "high_specificity": 0.7},
    )  # fmt: skip
    made = Case.objects.bulk_create(
        Case(code=f"B{i:06d}", source_key=hashlib.sha256(f"b{i}".encode()).hexdigest())
        for i in range(cases)
    )
    series = Series.objects.bulk_create(
        Series(
            case=c, study_instance_uid=f"2.25.1{i}", series_instance_uid=f"2.25.2{i}",
            modality="CT", rows=512, columns=512, num_slices=30, pixel_spacing_row=0.45,
            pixel_spacing_col=0.45, slice_spacing=5.0, orientation=[1, 0, 0, 0, 1, 0],
            origin=[0, 0, 0], content_hash=hashlib.sha256(f"s{i}".encode()).hexdigest(),
        )
        for i, c in enumerate(made)
    )  # fmt: skip
    for c, s in zip(made, series, strict=True):
        c.primary_series = s
    Case.objects.bulk_update(made, ["primary_series"], batch_size=2000)
    truth = {c.pk: i % 2 for i, c in enumerate(made)}
    GroundTruth.objects.bulk_create(
        GroundTruth(case=c, etiology="cvst_ich" if truth[c.pk] else "sich", source="bench")
        for c in made
    )
    jobs = InferenceJob.objects.bulk_create(
        InferenceJob(
            case=c, series=s, model_version=model, params={}, params_hash="0" * 64,
            status=InferenceJob.Status.SUCCEEDED, done=100, total=100,
        )
        for c, s in zip(made, series, strict=True)
    )  # fmt: skip
    InferenceOutput.objects.bulk_create(
        InferenceOutput(
            job=j,
            probabilities={"cvst_ich": p},
            decisions={
                "high_sensitivity": {"cvst_ich": int(p >= 0.3)},
                "high_specificity": {"cvst_ich": int(p >= 0.7)},
            },
            provenance={"bench": True},
        )  # fmt: skip
        for j in jobs
        for p in [min(1.0, max(0.0, rng.gauss(0.35 + 0.3 * truth[j.case_id], 0.2)))]
    )
    users = User.objects.bulk_create(
        User(username=f"bench-reader-{i:03d}", role=Role.READER) for i in range(readers)
    )
    study = services.create_study(
        title="Bundle bench", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=5
    )
    services.add_cases(study, made)
    for u in users:
        services.enroll_reader(study, u)
    services.configure_assistance(study, model_version=model, heatmaps=[])
    services.open_study(study, truth_pending_allowed=False)
    now = timezone.now()
    rows = Assignment.objects.filter(study=study).values_list("pk", "study_case__case_id")
    batch: list[AnswerRevision] = []
    for pk, case_id in rows.iterator(chunk_size=5000):
        right = rng.random() < 0.8
        call = truth[case_id] if right else 1 - truth[case_id]
        answer = {"diagnosis": "cvst_ich" if call else "sich", "confidence": rng.randint(0, 100)}
        batch += [
            AnswerRevision(assignment_id=pk, number=1, kind="draft", answers={"diagnosis": "sich"}),
            AnswerRevision(
                assignment_id=pk, number=2, kind="lock", answers=answer,
                client_request_id=f"r{pk}", client_active_ms=rng.randint(5000, 90000),
            ),
        ]  # fmt: skip
        if len(batch) >= 10000:
            AnswerRevision.objects.bulk_create(batch)
            batch = []
    AnswerRevision.objects.bulk_create(batch)
    Assignment.objects.filter(study=study).update(
        state=Assignment.State.LOCKED, started_at=now, submitted_at=now, locked_at=now
    )
    services.close_study(study)
    return study.pk


def phase_export(a) -> dict:
    _django(a.src)
    t = time.perf_counter()
    study_id = build(a.readers, a.cases)
    built = time.perf_counter() - t
    from readerstudy.exports.bundle_export import export_bundle
    from readerstudy.studies.models import ReaderStudy

    options = json.loads(a.options) if a.options else None
    t0, c0 = time.perf_counter(), time.process_time()
    summary = export_bundle(
        ReaderStudy.objects.get(pk=study_id), Path(a.out), report_options=options
    )
    return {
        "build_s": round(built, 1),
        "export_s": round(time.perf_counter() - t0, 1),
        "export_cpu_s": round(time.process_time() - c0, 1),
        "bundle_bytes": summary.bytes,
        "rows": summary.rows,
    }


def phase_import(a) -> dict:
    _django(a.dst)
    from readerstudy.exports.bundle_import import import_bundle

    t0, c0 = time.perf_counter(), time.process_time()
    summary = import_bundle(Path(a.out))
    return {
        "import_s": round(time.perf_counter() - t0, 1),
        "import_cpu_s": round(time.process_time() - c0, 1),
        "imported_revisions": summary.rows.get("revisions.csv"),
    }


def _databases(db: str | None, tmp: Path) -> tuple[str, str]:
    if db is None:
        return f"sqlite:///{tmp / 'src.sqlite3'}", f"sqlite:///{tmp / 'dst.sqlite3'}"
    import psycopg

    base, name = db.rsplit("/", 1)
    with psycopg.connect(db.replace(f"/{name}", "/postgres"), autocommit=True) as conn:
        for suffix in ("src", "dst"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_{suffix}"')
            conn.execute(f'CREATE DATABASE "{name}_{suffix}"')
    return f"{base}/{name}_src", f"{base}/{name}_dst"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--readers", type=int, default=100)
    p.add_argument("--cases", type=int, default=2000)
    p.add_argument("--db", help="PostgreSQL URL (default: two SQLite files)")
    p.add_argument("--options", help="report options (JSON), as export_study_bundle --options")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--phase", choices=("export", "import"), help=argparse.SUPPRESS)
    p.add_argument("--src", help=argparse.SUPPRESS)
    p.add_argument("--dst", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.phase:
        result = phase_export(a) if a.phase == "export" else phase_import(a)
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        src, dst = _databases(a.db, Path(tmp))
        out = str(Path(tmp) / "bundle.zip")
        figures = {"readers": a.readers, "cases": a.cases, "conditions": 2,
                   "load_before": os.getloadavg()[0]}  # fmt: skip
        for phase in ("export", "import"):
            cmd = [sys.executable, __file__, "--phase", phase, "--src", src, "--dst", dst,
                   "--out", out, "--readers", str(a.readers), "--cases", str(a.cases)]  # fmt: skip
            if a.options:
                cmd += ["--options", a.options]
            env = {**os.environ, "READERSTUDY_DATA_DIR": tmp}
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            if done.returncode != 0:
                print(done.stdout, done.stderr, file=sys.stderr)
                return 1
            figures.update(json.loads(done.stdout.strip().splitlines()[-1]))
        figures["load_after"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=1))
    if a.json:
        a.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
