"""Seed the demo: accounts, phantom cases (imported, labelled), the model jobs, two studies.

The seed-000 study (the demo model) opens with a task screen and two practice cases (rule: all
practice cases done); the seed-001 study runs the DLRN on hematoma phantoms with truth masks
and clinical records. Safe to re-run: existing accounts are reset, cases are recognised by
content, each study and its practice are set up once. The models' outputs are computed here,
before the studies open (the first run takes a few minutes on two cores; they are kept in the
data dir, so re-runs are quick).
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from readerstudy.demo.set_up import set_up_demo


class Command(BaseCommand):
    help = "Create the demo accounts, cases and study (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=6)
        parser.add_argument("--seed", type=int, default=2025)
        parser.add_argument("--dlrn-cases", type=int, default=4, help="seed-001 study cases")

    def handle(self, *args, cases: int, seed: int, dlrn_cases: int, **options):
        demo = set_up_demo(
            settings.DATA_DIR / "demo",
            cases=cases,
            seed=seed,
            dlrn_cases=dlrn_cases,
            say=self.stdout.write,
        )
        for shown, n in ((demo.study, len(demo.cases)), (demo.dlrn_study, len(demo.dlrn_cases))):
            self.stdout.write(
                self.style.SUCCESS(f"demo study “{shown.title}” ({shown.status}) with {n} cases")
            )
        self.stdout.write(
            f"  the first one starts with a task screen and {len(demo.practice)} practice cases"
        )
        self.stdout.write(self.style.SUCCESS("demo accounts (username / password):"))
        for login in demo.logins:
            self.stdout.write(f"  {login.role:<13} {login.username:<13} {login.password}")
