"""``{% marks_scoring_card study %}``: on a marks study's page, how its lesion marks are scored
(the form posts to the study's lesion-marks page, which validates and stores it)."""

from django import template

from readerstudy.studies.models import QuestionType

from ..forms import LocalizationScoringForm
from ..froc_data import scoring_of

register = template.Library()


@register.inclusion_tag("exports/_marks_scoring_card.html")
def marks_scoring_card(study):
    if not study.questions.filter(type=QuestionType.MARKS).exists():
        return {"study": None}
    return {
        "study": study,
        "form": LocalizationScoringForm(instance=scoring_of(study), study=study),
    }
