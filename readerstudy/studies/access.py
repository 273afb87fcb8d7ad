"""Study-driven access rules registered with the case library."""

from .models import Assignment, ReaderStudy
from .practice import PracticeCase


class AssignedReaderPolicy:
    """A reader sees a case's images while they hold an assignment for it in an open study."""

    def _assignments(self, user):
        return Assignment.objects.filter(reader__user=user, study__status=ReaderStudy.Status.OPEN)

    def allows(self, user, case) -> bool:
        return self._assignments(user).filter(study_case__case=case).exists()

    def visible(self, user, cases):
        case_ids = self._assignments(user).values("study_case__case_id")
        return cases.filter(pk__in=case_ids)


class PracticeReaderPolicy:
    """A reader sees a practice case's images while enrolled in its study, once it is open."""

    def _practice(self, user):
        return PracticeCase.objects.filter(
            study__readers__user=user, study__status=ReaderStudy.Status.OPEN
        )

    def allows(self, user, case) -> bool:
        return self._practice(user).filter(case=case).exists()

    def visible(self, user, cases):
        return cases.filter(pk__in=self._practice(user).values("case_id"))
