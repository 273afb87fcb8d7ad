"""Study-driven access rules registered with the case library."""

from .models import Assignment, ReaderStudy


class AssignedReaderPolicy:
    """A reader sees a case's images while they hold an assignment for it in an open study."""

    def _assignments(self, user):
        return Assignment.objects.filter(reader__user=user, study__status=ReaderStudy.Status.OPEN)

    def allows(self, user, case) -> bool:
        return self._assignments(user).filter(study_case__case=case).exists()

    def visible(self, user, cases):
        case_ids = self._assignments(user).values("study_case__case_id")
        return cases.filter(pk__in=case_ids)
