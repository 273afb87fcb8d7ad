"""The demo's accounts. Passwords are public: the demo is for trying the platform locally."""

from dataclasses import dataclass

from readerstudy.accounts.models import Role, Specialty
from readerstudy.accounts.services import ensure_user, set_reader_profile


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


DEMO_LOGINS = (
    DemoLogin("reader", "reader-demo-2025", Role.READER),
    DemoLogin("reader2", "reader2-demo-2025", Role.READER),
    DemoLogin("coordinator", "coordinator-demo-2025", Role.COORDINATOR),
    DemoLogin("statistician", "statistician-demo-2025", Role.STATISTICIAN),
    DemoLogin("admin", "admin-demo-2025", Role.ADMIN),
)

_PROFILES = {
    "reader": (Specialty.RADIOLOGIST, 10),
    "reader2": (Specialty.EMERGENCY, 3),
}


def ensure_demo_accounts() -> list[DemoLogin]:
    for login in DEMO_LOGINS:
        user = ensure_user(username=login.username, password=login.password, role=login.role)
        if login.username in _PROFILES:
            specialty, years = _PROFILES[login.username]
            set_reader_profile(user=user, specialty=specialty, years_experience=years)
    return list(DEMO_LOGINS)
