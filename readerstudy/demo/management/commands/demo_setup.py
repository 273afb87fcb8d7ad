"""Seed the demo: accounts and a synthetic phantom case set. Safe to re-run."""

from django.conf import settings
from django.core.management.base import BaseCommand

from readerstudy.demo.accounts import ensure_demo_accounts


class Command(BaseCommand):
    help = "Create the demo accounts and phantom cases (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=8)
        parser.add_argument("--seed", type=int, default=2025)

    def handle(self, *args, cases: int, seed: int, **options):
        from phantoms import generate_dataset

        logins = ensure_demo_accounts()
        phantom_dir = settings.DATA_DIR / "demo" / "phantoms"
        if not (phantom_dir / "labels.csv").exists():
            self.stdout.write(f"writing {cases} phantom cases to {phantom_dir} ...")
            generate_dataset(phantom_dir, cases, seed)
        self.stdout.write(self.style.SUCCESS("demo accounts (username / password):"))
        for login in logins:
            self.stdout.write(f"  {login.role:<13} {login.username:<13} {login.password}")
