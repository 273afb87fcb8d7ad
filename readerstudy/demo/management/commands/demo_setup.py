"""Seed the demo: accounts, phantom cases (imported, labelled), the model jobs, two studies.

The seed-000 study (the demo model) opens with a task screen and two practice cases (rule: all
practice cases done); the seed-001 study runs the DLRN on haematoma phantoms with truth masks
and clinical records. Safe to re-run: existing accounts are reset, cases are recognised by
content, each study and its practice are set up once. The models' outputs are computed here,
before the studies open (the first run takes a few minutes on two cores; they are kept in the
data dir, so re-runs are quick).
"""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from readerstudy.accounts.models import User
from readerstudy.demo.accounts import ensure_demo_accounts
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


class Command(BaseCommand):
    help = "Create the demo accounts, cases and study (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=6)
        parser.add_argument("--seed", type=int, default=2025)
        parser.add_argument("--dlrn-cases", type=int, default=4, help="seed-001 study cases")

    def handle(self, *args, cases: int, seed: int, dlrn_cases: int, **options):
        from phantoms import generate_dataset

        # PyRadiomics (the DLRN) logs every feature class at INFO: keep the progress lines readable.
        logging.getLogger("radiomics").setLevel(logging.WARNING)
        logins = ensure_demo_accounts()
        demo_dir = settings.DATA_DIR / "demo"
        phantom_dir, practice_dir, dlrn_dir = (
            demo_dir / "phantoms", demo_dir / "practice", demo_dir / "seed001"
        )  # fmt: skip
        if not (phantom_dir / "labels.csv").exists():
            self.stdout.write(f"writing {cases} synthetic phantom cases to {phantom_dir} ...")
            generate_dataset(phantom_dir, cases, seed)
        if not (practice_dir / "labels.csv").exists():
            self.stdout.write(f"writing 2 practice phantom cases to {practice_dir} ...")
            generate_dataset(practice_dir, 2, seed + 1, positive_fraction=0.5)
        if not (dlrn_dir / "labels.csv").exists():
            self.stdout.write(f"writing {dlrn_cases} seed-001 haematoma phantoms to {dlrn_dir} ...")
            write_hematoma_phantoms(dlrn_dir, dlrn_cases, seed)
        imported = import_phantoms(phantom_dir)
        practice = import_phantoms(practice_dir, "demo practice phantoms")
        hematomas = import_hematoma_phantoms(dlrn_dir)
        readers = list(User.objects.filter(username__in=["reader", "reader2"]))
        coordinator = User.objects.get(username="coordinator")
        model, dlrn = demo_model(), dlrn_model()
        runs: tuple[tuple[str, list, object, dict | None], ...] = (
            ("study cases", imported, model, None),
            ("practice cases", practice, model, PRACTICE_PARAMS),
            ("seed-001 cases", hematomas, dlrn, {}),
        )
        for what, group, version, params in runs:
            self.stdout.write(f"model outputs for {len(group)} {what} ({version}):")
            compute_outputs(group, version, self._reporter(), params=params)
        study = ensure_demo_study(imported, readers, model)
        ensure_demo_practice(study, practice, coordinator)
        second = ensure_dlrn_study(hematomas, readers, dlrn)
        for shown, n in ((study, len(imported)), (second, len(hematomas))):
            self.stdout.write(
                self.style.SUCCESS(f"demo study “{shown.title}” ({shown.status}) with {n} cases")
            )
        self.stdout.write(
            f"  the first one starts with a task screen and {len(practice)} practice cases"
        )
        self.stdout.write(self.style.SUCCESS("demo accounts (username / password):"))
        for login in logins:
            self.stdout.write(f"  {login.role:<13} {login.username:<13} {login.password}")

    def _reporter(self):
        started = time.monotonic()

        def report(done, total, job):
            elapsed = time.monotonic() - started
            eta = elapsed / done * (total - done)
            bar = "#" * done + "." * (total - done)
            self.stdout.write(
                f"  [{bar}] {done}/{total} {job.case.code} {job.status}"
                f" · {elapsed:.0f} s elapsed, about {eta:.0f} s left"
            )

        return report
