"""Import throughput: readerstudy's ``import_study`` vs dicognito and deid on the same files.

    .venv/bin/pip install dicognito deid            # bench only (or `pip install .[bench]`)
    .venv/bin/python bench/ingest/run.py            # 4 studies x 135 slices, 5 rounds
    .venv/bin/python bench/ingest/run.py --studies 2 --rounds 3 --json out.json

The files: one thin-slice synthetic head CT from ``phantoms`` (512x512, 12-bit, fake PHI and a
private block), copied under new patients and UIDs into ``--studies`` study folders.

* **readerstudy**: ``readerstudy.cases.ingest.import_study(folder)`` per study, the path every
  upload, folder and PACS import takes: parse and validate, de-identify, assemble the series and
  its HU volume, write the stored DICOM files and the NIfTI volume to storage, then the rows.
  Django runs on ``readerstudy.settings.base`` with a fresh SQLite database and media folder in
  a temporary data dir (migrated first).  Between rounds, untimed, the cases and the media
  folder are deleted, so every round writes every file again.
* **dicognito** (``Anonymizer``; ``dcmread``, ``anonymize``, ``save_as`` to a file).
* **deid** (its default recipe through ``replace_identifiers(..., remove_private=True)``,
  then ``save_as`` to a file).
* **pydicom read+write only**: ``dcmread`` + ``save_as`` to a file, no de-identification.

Contenders run one after the other in every round, the order rotating each round, so load
from other jobs hits all of them alike.  Reported per contender: median ms per file, median and
best files/s, median CPU time; and ours over the fastest peer (files/s ratio, >1 means ours is
faster) both from the medians and as the median of the same-round ratios.  The load average is
recorded around every round.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PEERS = ("dicognito", "deid")
FLOOR = "pydicom read+write only"


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def make_studies(out: Path, n_studies: int, matrix: int) -> list[Path]:
    """One phantom series, copied under new patients and UIDs into ``n_studies`` folders."""
    from phantoms import make_case, write_case

    src = out / "_src"
    write_case(make_case(1, "cvst_ich", matrix=matrix, thin=True), src)
    templates = [pydicom.dcmread(p) for p in sorted(src.glob("*/*.dcm"))]
    folders = []
    for copy in range(n_studies):
        folder = out / f"study{copy:03d}"
        folder.mkdir(parents=True)
        study, series, frame = generate_uid(), generate_uid(), generate_uid()
        for i, ds in enumerate(templates):
            ds.PatientID = f"BENCH{copy:05d}"
            ds.PatientName = f"BENCH^PATIENT{copy:05d}"
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.save_as(folder / f"IM{i:04d}.dcm", enforce_file_format=True)
        folders.append(folder)
    shutil.rmtree(src)
    return folders


def _setup_django(data_dir: Path) -> None:
    """``readerstudy.settings.base`` on a fresh SQLite database and media folder, migrated."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "readerstudy.settings.base"
    os.environ["READERSTUDY_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'readerstudy.sqlite3'}"
    os.environ.pop("READERSTUDY_S3_BUCKET", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


# --- contenders: each is (run(folders) -> files written, reset() -> None), reset untimed ----


def readerstudy_contender():
    from django.conf import settings

    from readerstudy.cases.ingest import import_study
    from readerstudy.cases.models import Case, Instance

    def run(folders):
        for folder in folders:
            outcome = import_study(folder)
            if not outcome.created:
                raise RuntimeError("import_study found an existing case: the reset failed")
        return Instance.objects.count()

    def reset():
        Case.objects.all().delete()
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)

    reset()
    return run, reset


def _writing_peer(out: Path, deidentify: Callable | None):
    def run(folders):
        written = 0
        for folder in folders:
            for p in sorted(folder.iterdir()):
                ds = pydicom.dcmread(p)
                if deidentify is not None:
                    deidentify(ds)
                ds.save_as(out / f"{written:06d}.dcm", enforce_file_format=True)
                written += 1
        return written

    def reset():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)

    reset()
    return run, reset


def dicognito_contender(out: Path):
    from dicognito.anonymizer import Anonymizer

    return _writing_peer(out, Anonymizer(seed="bench-seed").anonymize)


def pydicom_contender(out: Path):
    return _writing_peer(out, None)


def deid_contender(out: Path):
    from deid.dicom import replace_identifiers

    logging.getLogger("deid").setLevel(logging.ERROR)
    try:
        from deid.logger import bot

        bot.level = 0
    except Exception:  # noqa: BLE001 - optional quieting only
        pass

    def run(folders):
        paths = [str(p) for folder in folders for p in sorted(folder.iterdir())]
        written = 0
        # deid's default recipe; it parses the files itself
        for ds in replace_identifiers(paths, save=False, remove_private=True):
            ds.save_as(out / f"{written:06d}.dcm", enforce_file_format=False)
            written += 1
        return written

    def reset():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)

    reset()
    return run, reset


def _summary(n: int, wall: list[float], cpu: list[float]) -> dict:
    return {
        "median_ms_per_file": 1000 * statistics.median(wall) / n,
        "median_files_per_s": n / statistics.median(wall),
        "best_files_per_s": n / min(wall),
        "cpu_median_files_per_s": n / statistics.median(cpu),
        "rounds_wall_s": wall,
        "rounds_cpu_s": cpu,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=4, help="study copies (135 slices each)")
    ap.add_argument("--matrix", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path, help="write results here")
    args = ap.parse_args(argv)
    if args.studies < 1 or args.rounds < 1:
        ap.error("--studies and --rounds must be 1 or more")

    with tempfile.TemporaryDirectory(prefix="rs-bench-ingest-") as tmpdir:
        tmp = Path(tmpdir)
        t = time.perf_counter()
        folders = make_studies(tmp / "studies", args.studies, args.matrix)
        n = sum(1 for f in folders for _ in f.iterdir())
        print(f"generated {n} files in {len(folders)} studies in {time.perf_counter() - t:.1f} s")
        for f in folders:  # warm the page cache so every contender reads from memory
            for p in f.iterdir():
                p.read_bytes()
        _setup_django(tmp / "data")
        contenders = {"readerstudy": readerstudy_contender()}
        for name, factory in (("dicognito", dicognito_contender), ("deid", deid_contender)):
            if _version(name) is None:
                print(f"skip {name}: not installed (pip install {name})")
                continue
            contenders[name] = factory(tmp / "out" / name)
        contenders[FLOOR] = pydicom_contender(tmp / "out" / "pydicom")

        names = list(contenders)
        wall: dict[str, list[float]] = {k: [] for k in names}
        cpu: dict[str, list[float]] = {k: [] for k in names}
        loads = []
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            load_before = os.getloadavg()[0]
            for name in order:
                run, reset = contenders[name]
                t, c = time.perf_counter(), time.process_time()
                written = run(folders)
                cpu[name].append(time.process_time() - c)
                wall[name].append(time.perf_counter() - t)
                if written != n:
                    raise RuntimeError(f"{name} wrote {written} files, expected {n}")
                reset()
            loads.append((load_before, os.getloadavg()[0]))
            print(
                f"round {r + 1}/{args.rounds} (load {loads[-1][0]:.1f} -> {loads[-1][1]:.1f}): "
                + ", ".join(f"{k} {1000 * wall[k][-1] / n:.1f}" for k in order)
                + " ms/file"
            )

    results = {k: _summary(n, wall[k], cpu[k]) for k in names}
    peers = [k for k in names if k in PEERS]
    ratio = None
    if peers:
        best = max(peers, key=lambda k: results[k]["median_files_per_s"])
        ours = results["readerstudy"]
        ratio = {
            "versus": best,
            "median_files_per_s": ours["median_files_per_s"] / results[best]["median_files_per_s"],
            "median_same_round_wall": statistics.median(
                o / r for r, o in zip(wall["readerstudy"], wall[best])
            ),
            "median_same_round_cpu": statistics.median(
                o / r for r, o in zip(cpu["readerstudy"], cpu[best])
            ),
        }
    report = {
        "files": n,
        "studies": len(folders),
        "matrix": args.matrix,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "load_average_1min_before_after_each_round": loads,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": {
            pkg: _version(pkg) for pkg in ("pydicom", "dicognito", "deid", "numpy", "Django")
        },
        "results": results,
        "ours_over_best_peer_files_per_s": ratio,
    }
    width = max(len(k) for k in results)
    print(f"\n{n} files ({len(folders)} studies), {args.rounds} rounds")
    print(f"{'':{width}}  {'ms/file':>8}  {'files/s':>8}  {'best':>8}  {'cpu f/s':>8}")
    for name, r in results.items():
        print(
            f"{name:{width}}  {r['median_ms_per_file']:8.1f}  {r['median_files_per_s']:8.1f}"
            f"  {r['best_files_per_s']:8.1f}  {r['cpu_median_files_per_s']:8.1f}"
        )
    print("versions:", ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v))
    if ratio:
        print(
            f"ours / {ratio['versus']} (fastest peer), files/s: {ratio['median_files_per_s']:.2f}x"
            f" (medians), same-round median {ratio['median_same_round_wall']:.2f}x wall,"
            f" {ratio['median_same_round_cpu']:.2f}x CPU"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
