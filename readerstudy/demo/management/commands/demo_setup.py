"""Seed the demo: accounts, phantom cases (imported, labelled), the model jobs, a demo study.

Safe to re-run: existing accounts are reset, cases are recognised by content, the study is
created once. The model jobs run on the worker that `rundemo` starts.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from readerstudy.accounts.models import User
from readerstudy.demo.accounts import ensure_demo_accounts
from readerstudy.demo.seed import ensure_demo_study, import_phantoms


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
        study = ensure_demo_study(imported, readers)
        self.stdout.write(
            self.style.SUCCESS(
                f"demo study “{study.title}” ({study.status}) with {len(imported)} cases"
            )
        )
        self.stdout.write(self.style.SUCCESS("demo accounts (username / password):"))
        for login in logins:
            self.stdout.write(f"  {login.role:<13} {login.username:<13} {login.password}")
