"""On a study's truth card: ``{% panel_mask_choice study panels %}`` (inside the truth-source
form: keep or replace the cases' existing truth masks with a panel's consensus masks) and
``{% panel_mask_writes study %}`` (what the last choice did to the cases' truth masks)."""

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("panels/_mask_choice.html")
def panel_mask_choice(study, panels):
    case_ids = list(study.study_cases.values_list("case_id", flat=True))
    return {"choices": selectors.mask_choices(panels, case_ids)}


@register.inclusion_tag("panels/_mask_writes.html")
def panel_mask_writes(study):
    return {"writes": selectors.latest_mask_writes(study.pk)}
