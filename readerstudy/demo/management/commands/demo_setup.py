"""Seed the demo: accounts, phantom cases (imported, labelled), the model jobs, a demo study.

Safe to re-run: existing accounts are reset, cases are recognised by content, the study is
created once. The model's outputs are computed here, before the study opens (the first run
takes a few minutes on two cores; they are kept in the data dir, so re-runs are instant).
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from readerstudy.accounts.models import User
from readerstudy.demo.accounts import ensure_demo_accounts
from readerstudy.demo.seed import compute_outputs, demo_model, ensure_demo_study, import_phantoms


class Command(BaseCommand):
    help = "Create the demo accounts, cases and study (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=6)
        parser.add_argument("--seed", type=int, default=2025)

    def handle(self, *args, cases: int, seed: int, **options):
        from phantoms import generate_dataset

        logins = ensure_demo_accounts()
        phantom_dir = settings.DATA_DIR / "demo" / "phantoms"
        if not (phantom_dir / "labels.csv").exists():
            self.stdout.write(f"writing {cases} synthetic phantom cases to {phantom_dir} ...")
            generate_dataset(phantom_dir, cases, seed)
        imported = import_phantoms(phantom_dir)
        readers = list(User.objects.filter(username__in=["reader", "reader2"]))
        model = demo_model()
        self.stdout.write(f"model outputs for {len(imported)} cases ({model}):")
        started = time.monotonic()

        def report(done, total, job):
            elapsed = time.monotonic() - started
            eta = elapsed / done * (total - done)
            bar = "#" * done + "." * (total - done)
            self.stdout.write(
                f"  [{bar}] {done}/{total} {job.case.code} {job.status}"
                f" · {elapsed:.0f} s elapsed, about {eta:.0f} s left"
            )

        compute_outputs(imported, model, report)
        study = ensure_demo_study(imported, readers, model)
        self.stdout.write(
            self.style.SUCCESS(
                f"demo study “{study.title}” ({study.status}) with {len(imported)} cases"
            )
        )
        self.stdout.write(self.style.SUCCESS("demo accounts (username / password):"))
        for login in logins:
            self.stdout.write(f"  {login.role:<13} {login.username:<13} {login.password}")
