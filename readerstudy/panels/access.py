"""Who may see a panel case's images: its annotators and its adjudicator."""

from django.db.models import Q, QuerySet


def _grants(user) -> Q:
    return Q(panel_memberships__panel__annotators__user=user) | Q(
        panel_memberships__panel__adjudicator=user
    )


class PanelCaseAccess:
    def allows(self, user, case) -> bool:
        if not (user.is_annotator or user.is_adjudicator):
            return False
        return type(case).objects.filter(_grants(user), pk=case.pk).exists()

    def visible(self, user, cases: QuerySet) -> QuerySet:
        if not (user.is_annotator or user.is_adjudicator):
            return cases.none()
        return cases.filter(_grants(user))
