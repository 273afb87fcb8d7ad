"""Who may see a case's images. Downstream apps register policies (studies: assigned readers).

The case library cannot import the study app (data flows one way), so the study app registers
its rule here at start-up. Coordinators and administrators see the whole library; a reader sees
a case only if some registered policy grants it; statisticians work on exports, not images.
"""

from typing import Protocol

from django.db.models import QuerySet


class CaseAccessPolicy(Protocol):
    def allows(self, user, case) -> bool: ...

    def visible(self, user, cases: QuerySet) -> QuerySet: ...


_policies: list[CaseAccessPolicy] = []


def register_case_access_policy(policy: CaseAccessPolicy) -> None:
    if all(type(p) is not type(policy) for p in _policies):
        _policies.append(policy)


def _sees_everything(user) -> bool:
    return bool(user.is_coordinator or user.is_platform_admin)


def can_view_case(user, case) -> bool:
    if not user or not user.is_authenticated:
        return False
    if _sees_everything(user):
        return True
    return any(policy.allows(user, case) for policy in _policies)


def visible_cases(user, cases: QuerySet) -> QuerySet:
    if not user or not user.is_authenticated:
        return cases.none()
    if _sees_everything(user):
        return cases
    result = cases.none()
    for policy in _policies:
        result = result | policy.visible(user, cases)
    return result.distinct()
