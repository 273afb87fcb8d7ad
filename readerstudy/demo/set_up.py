"""The demo's one entry point: accounts, phantom cases, the models' outputs and both studies.

``make demo`` runs it through ``manage.py demo_setup``; the tests run it with fewer, smaller
phantoms and fewer explainers. Each step is safe to re-run (see ``readerstudy.demo.seed``).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from readerstudy.accounts.models import User
from readerstudy.demo.accounts import DemoLogin, ensure_demo_accounts
from readerstudy.demo.seed import (
    PRACTICE_PARAMS,
    compute_outputs,
    demo_model,
    dlrn_model,
    ensure_demo_practice,
    ensure_demo_study,
    ensure_dlrn_study,
    import_hematoma_phantoms,
    import_phantoms,
    write_hematoma_phantoms,
)
from readerstudy.studies.models import ReaderStudy

DEMO_READERS = ("reader", "reader2")
DEMO_COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Demo:
    logins: list[DemoLogin]
    cases: list  # the seed-000 study's cases
    practice: list  # its practice cases
    study: ReaderStudy  # seed 000, the demo model
    dlrn_cases: list  # the seed-001 study's hematoma phantoms
    dlrn_study: ReaderStudy  # seed 001, the DLRN


def _quiet(line: str) -> None:
    """Progress lines go nowhere (the tests)."""


def set_up_demo(
    folder: Path,
    *,
    cases: int = 6,
    seed: int = 2025,
    dlrn_cases: int = 4,
    matrix: int = 512,
    study_params: dict | None = None,
    say: Callable[[str], None] = _quiet,
) -> Demo:
    """Set the demo up under ``folder``: ``cases`` study phantoms (``matrix`` pixels square,
    from ``seed``), two practice phantoms (``seed + 1``) and ``dlrn_cases`` seed-001 phantoms
    (``seed``); phantoms already written there are kept. ``study_params`` are the demo model's
    parameters for the study cases (None: all its explainers). ``say`` gets the progress lines.
    """
    from phantoms import generate_dataset

    # PyRadiomics (the DLRN) logs every feature class at INFO: keep the progress lines readable.
    logging.getLogger("radiomics").setLevel(logging.WARNING)
    logins = ensure_demo_accounts()
    phantom_dir, practice_dir, dlrn_dir = (
        folder / "phantoms",
        folder / "practice",
        folder / "seed001",
    )
    if not (phantom_dir / "labels.csv").exists():
        say(f"writing {cases} synthetic phantom cases to {phantom_dir} ...")
        generate_dataset(phantom_dir, cases, seed, matrix=matrix)
    if not (practice_dir / "labels.csv").exists():
        say(f"writing 2 practice phantom cases to {practice_dir} ...")
        generate_dataset(practice_dir, 2, seed + 1, matrix=matrix, positive_fraction=0.5)
    if not (dlrn_dir / "labels.csv").exists():
        say(f"writing {dlrn_cases} seed-001 hematoma phantoms to {dlrn_dir} ...")
        write_hematoma_phantoms(dlrn_dir, dlrn_cases, seed)
    imported = import_phantoms(phantom_dir)
    practice = import_phantoms(practice_dir, "demo practice phantoms")
    hematomas = import_hematoma_phantoms(dlrn_dir)
    readers = list(User.objects.filter(username__in=DEMO_READERS))
    coordinator = User.objects.get(username=DEMO_COORDINATOR)
    model, dlrn = demo_model(), dlrn_model()
    runs: tuple[tuple[str, list, object, dict | None], ...] = (
        ("study cases", imported, model, study_params),
        ("practice cases", practice, model, PRACTICE_PARAMS),
        ("seed-001 cases", hematomas, dlrn, {}),
    )
    for what, group, version, params in runs:
        say(f"model outputs for {len(group)} {what} ({version}):")
        compute_outputs(group, version, _progress(say), params=params)
    study = ensure_demo_study(imported, readers, model)
    ensure_demo_practice(study, practice, coordinator)
    dlrn_study = ensure_dlrn_study(hematomas, readers, dlrn)
    return Demo(logins, imported, practice, study, hematomas, dlrn_study)


def _progress(say: Callable[[str], None]):
    started = time.monotonic()

    def report(done, total, job):
        elapsed = time.monotonic() - started
        eta = elapsed / done * (total - done)
        bar = "#" * done + "." * (total - done)
        say(
            f"  [{bar}] {done}/{total} {job.case.code} {job.status}"
            f" · {elapsed:.0f} s elapsed, about {eta:.0f} s left"
        )

    return report
