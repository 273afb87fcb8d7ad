"""Write paths of a study's conditions (draft only) and of their assistance settings.

A study reads its cases in k conditions, in a stored order: ``unaided`` (reserved: nothing is
shown, first where present) and aided conditions, each with its own
:class:`~.models.AssistanceConfig`. Every change is checked against the design (it needs at
least two conditions, or exactly ``unaided``) and rebuilds the draft's sessions, arms and
schedule from :func:`~.designs.design_spec`, all in one transaction.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .designs import UNAIDED, DesignError, check_conditions, design_spec
from .errors import ProtocolConflict, StudyError
from .models import (
    AssistanceConfig,
    ReaderStudy,
    ReadingSession,
    ScheduleEntry,
    StudyCondition,
)

ASSISTANCE_FIELDS = frozenset(
    {
        "model_version", "show_probability", "show_decision", "operating_point", "heatmaps",
        "show_mask_outline", "show_model_version", "heatmap_opacity", "labels",
        "show_slice_strip", "heatmap_scale", "side_by_side", "show_truth_mask_side_by_side",
        "show_nomogram", "show_feature_importance", "show_clinical", "show_model_marks",
    }
)  # fmt: skip
DEFAULT_HEATMAPS = ["gradcampp", "ig", "shap", "occlusion"]
_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


_NAME_MAX = _max_length(StudyCondition, "name")


def _require_draft(study: ReaderStudy) -> None:
    if study.status != ReaderStudy.Status.DRAFT:
        raise ProtocolConflict(
            "design_frozen", f"the study is {study.status}: its design can no longer change"
        )


def default_conditions(design: str) -> list[dict]:
    """``unaided`` and ``aided`` (an unaided-only study: ``unaided``)."""
    unaided = {"code": UNAIDED, "name": "Unaided"}
    if design == "unaided_only":
        return [unaided]
    return [unaided, {"code": "aided", "name": "Aided", "assistance": {}}]


def _checked(design: str, conditions: list[dict]) -> list[dict]:
    """The conditions, each with a code, a name and (aided) its assistance settings."""
    cleaned: list[dict[str, Any]] = []
    for spec in conditions:
        code = str(spec.get("code") or "")
        if not _CODE.match(code):
            raise StudyError(
                "bad_condition", f"condition code {code!r}: letters, digits, - and _ (1 to 64)"
            )
        name = str(spec.get("name") or code.replace("_", " ").capitalize()).strip()
        if len(name) > _NAME_MAX:
            raise StudyError("bad_condition", f"condition {code}: a name of at most {_NAME_MAX}")
        assistance = dict(spec.get("assistance") or {})
        if code == UNAIDED and assistance:
            raise StudyError("unaided_shows_nothing", "the unaided condition shows no assistance")
        cleaned.append({"code": code, "name": name, "assistance": assistance})
    try:
        check_conditions(design, [c["code"] for c in cleaned])
    except DesignError as exc:
        raise StudyError("bad_conditions", str(exc)) from None
    return cleaned


def _check_labels(config: AssistanceConfig) -> None:
    from readerstudy.ai.labels import scored_labels

    names: list[str] = []  # a label, or a multi-class head (all its classes)
    for label in scored_labels(config.model_version):
        names += [label.name] + ([label.head] if label.kind == "multi_class" else [])
    names = list(dict.fromkeys(names))
    labels = config.labels or []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise StudyError("bad_labels", "labels: a list of the model's label names")
    unknown = [x for x in labels if x not in names]
    if unknown:
        raise StudyError(
            "bad_labels",
            f"model {config.model_version} has no label {', '.join(map(repr, unknown))}"
            f" (it has {', '.join(names)})",
        )
    if len(set(labels)) != len(labels):
        raise StudyError("bad_labels", "each label may be listed once")


#: clinical variables never shown to readers: the etiology is the seed-001 endpoint's truth
NEVER_SHOWN_CLINICAL = frozenset({"etiology"})


def showable_clinical() -> dict:
    """The clinical variables a study may show readers (the catalogue less the truth)."""
    from readerstudy.cases.clinical import catalogue

    return {k: v for k, v in catalogue().items() if k not in NEVER_SHOWN_CLINICAL}


def _check_clinical(config: AssistanceConfig) -> None:
    """``show_clinical``: each a showable variable of the clinical catalogue, listed once."""
    names = config.show_clinical
    if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
        raise StudyError("bad_clinical", "show_clinical: a list of clinical variable names")
    hidden = [x for x in names if x in NEVER_SHOWN_CLINICAL]
    if hidden:
        raise StudyError(
            "bad_clinical",
            f"{', '.join(map(repr, hidden))} is the truth of the endpoint: never shown to readers",
        )
    known = showable_clinical()
    unknown = [x for x in names if x not in known]
    if unknown:
        raise StudyError(
            "bad_clinical",
            f"no clinical variable {', '.join(map(repr, unknown))} (known: {', '.join(known)})",
        )
    if len(set(names)) != len(names):
        raise StudyError("bad_clinical", "each clinical variable may be listed once")


def apply_assistance(config: AssistanceConfig, fields: dict) -> AssistanceConfig:
    """Set ``fields`` on ``config``, check them and save."""
    unknown = set(fields) - ASSISTANCE_FIELDS
    if unknown:
        raise StudyError("bad_assistance", f"unknown assistance settings: {sorted(unknown)}")
    for key, value in fields.items():
        setattr(config, key, value)
    if config.model_version is not None:
        points = config.model_version.operating_points
        if config.operating_point not in points:
            raise StudyError(
                "bad_operating_point",
                f"model {config.model_version} has no operating point {config.operating_point!r}"
                f" (it has {', '.join(sorted(points))})",
            )
        _check_labels(config)
    _check_clinical(config)
    if config.show_truth_mask_side_by_side and not config.side_by_side:
        raise StudyError(
            "bad_assistance", "show_truth_mask_side_by_side needs side_by_side allowed"
        )
    try:
        config.full_clean()
    except ValidationError as exc:
        raise StudyError("bad_assistance", "; ".join(exc.messages)) from None
    config.save()
    return config


def rebuild_design(study: ReaderStudy) -> None:
    """The draft's sessions, arms and schedule, made again from its design and conditions."""
    conditions = list(study.conditions.order_by("order", "id"))
    spec = design_spec(
        study.design, [c.code for c in conditions], {c.code: c.name for c in conditions}
    )
    study.arms.all().delete()
    study.sessions.all().delete()
    sessions = {
        s.index: ReadingSession.objects.create(
            study=study,
            index=s.index,
            name=s.name,
            washout_days=study.washout_days if s.after_washout else 0,
        )
        for s in spec.sessions
    }
    arms = {name: study.arms.create(name=name) for name in spec.arms}
    ScheduleEntry.objects.bulk_create(
        ScheduleEntry(
            arm=arms[e.arm],
            session=sessions[e.session],
            case_group=e.case_group,
            condition=e.condition,
            step=e.step,
        )
        for e in spec.schedule
    )


def _store(study: ReaderStudy, conditions: list[dict]) -> None:
    """Make the study's conditions exactly ``conditions`` (checked), in their order."""
    existing = {c.code: c for c in study.conditions.select_related("assistance")}
    keep = {c["code"] for c in conditions}
    for code, gone in existing.items():
        if code not in keep:
            gone.delete()
    for order, spec in enumerate(conditions):
        row = existing.get(spec["code"])
        if row is not None:
            row.name, row.order = spec["name"], order
            row.save(update_fields=["name", "order"])
            if spec["assistance"]:
                apply_assistance(row.assistance, spec["assistance"])
            continue
        new = StudyCondition.objects.create(
            study=study, code=spec["code"], name=spec["name"], order=order
        )
        if new.is_aided:
            config = AssistanceConfig(study=study, condition=new, heatmaps=DEFAULT_HEATMAPS)
            apply_assistance(config, spec["assistance"])
    rebuild_design(study)


def _current(study: ReaderStudy) -> list[dict]:
    return [
        {"code": c.code, "name": c.name, "assistance": {}}
        for c in study.conditions.order_by("order", "id")
    ]


def _locked_draft(study: ReaderStudy) -> ReaderStudy:
    study = ReaderStudy.objects.select_for_update().get(pk=study.pk)
    _require_draft(study)
    return study


@transaction.atomic
def create_conditions(study: ReaderStudy, conditions: list[dict] | None) -> None:
    """The new study's conditions (default: :func:`default_conditions`), with its design."""
    conditions = default_conditions(study.design) if conditions is None else conditions
    _store(study, _checked(study.design, conditions))
    if study.design == "unaided_only":  # its comparator model: readers vs the model
        AssistanceConfig.objects.create(study=study, heatmaps=[])


@transaction.atomic
def set_conditions(study: ReaderStudy, conditions: list[dict]) -> list[StudyCondition]:
    """Make the draft's conditions exactly ``conditions`` ({code, name, assistance}), in order.

    A condition kept by its code keeps its assistance settings; ``assistance`` changes them.
    """
    study = _locked_draft(study)
    _store(study, _checked(study.design, conditions))
    return list(study.conditions.select_related("assistance__model_version"))


@transaction.atomic
def add_condition(
    study: ReaderStudy, *, code: str, name: str = "", assistance: dict | None = None
) -> StudyCondition:
    """Append an aided condition to the draft."""
    study = _locked_draft(study)
    current = _current(study)
    if code in {c["code"] for c in current}:
        raise StudyError("duplicate_condition", f"the study already has a condition {code!r}")
    if code == UNAIDED:
        raise StudyError("bad_condition", "unaided is reserved: it is added with the study")
    new = {"code": code, "name": name, "assistance": assistance or {}}
    _store(study, _checked(study.design, [*current, new]))
    return study.conditions.get(code=code)


def _condition(study: ReaderStudy, code: str) -> StudyCondition:
    row = study.conditions.filter(code=code).select_related("assistance").first()
    if row is None:
        raise StudyError("unknown_condition", f"the study has no condition {code!r}")
    return row


@transaction.atomic
def update_condition(
    study: ReaderStudy, code: str, *, name: str | None = None, assistance: dict | None = None
) -> StudyCondition:
    """Rename a condition of the draft and/or change its assistance settings."""
    study = _locked_draft(study)
    _condition(study, code)
    current = _current(study)
    for spec in current:
        if spec["code"] == code:
            spec["name"] = spec["name"] if name is None else name
            spec["assistance"] = assistance or {}
    _store(study, _checked(study.design, current))
    return study.conditions.get(code=code)


@transaction.atomic
def remove_condition(study: ReaderStudy, code: str) -> None:
    """Remove a condition (and its assistance settings) from the draft."""
    study = _locked_draft(study)
    _condition(study, code)
    if code == UNAIDED:
        raise StudyError(
            "bad_condition", "the unaided condition is kept (set the conditions to leave it out)"
        )
    _store(study, _checked(study.design, [c for c in _current(study) if c["code"] != code]))


@transaction.atomic
def reorder_conditions(study: ReaderStudy, codes: list[str]) -> None:
    """Put the draft's conditions in the order of ``codes`` (all of them, each once)."""
    study = _locked_draft(study)
    current = {c["code"]: c for c in _current(study)}
    if sorted(codes) != sorted(current):
        raise StudyError(
            "bad_conditions", f"list every condition once: {', '.join(sorted(current))}"
        )
    _store(study, _checked(study.design, [current[c] for c in codes]))


@transaction.atomic
def move_condition(study: ReaderStudy, code: str, offset: int) -> None:
    """Move a condition of the draft ``offset`` places (-1: up, +1: down)."""
    codes = [c.code for c in study.conditions.order_by("order", "id")]
    if code not in codes:
        raise StudyError("unknown_condition", f"the study has no condition {code!r}")
    i = codes.index(code)
    j = min(max(i + offset, 0), len(codes) - 1)
    codes.insert(j, codes.pop(i))
    reorder_conditions(study, codes)


def assistance_of(study: ReaderStudy, condition: str | None) -> AssistanceConfig:
    """The assistance settings of ``condition``; ``None``: of the study's only aided condition
    (or, a study that shows no model, of its comparator model)."""
    if condition == UNAIDED:
        raise StudyError("unaided_shows_nothing", "the unaided condition shows no assistance")
    configs = study.assistance_configs.select_related("condition", "model_version")
    if condition is not None:
        config = configs.filter(condition__code=condition).first()
        if config is None:
            raise StudyError("unknown_condition", f"the study has no aided condition {condition!r}")
        return config
    aided = [c for c in configs if c.condition is not None]
    if len(aided) > 1:
        codes = ", ".join(sorted(c.condition.code for c in aided if c.condition))
        raise StudyError("condition_required", f"name the condition to configure ({codes})")
    chosen = aided or [c for c in configs if c.condition is None]
    if not chosen:
        raise StudyError("unknown_condition", "the study has no assistance settings")
    return chosen[0]


@transaction.atomic
def configure_assistance(
    study: ReaderStudy, condition: str | None = None, **fields
) -> AssistanceConfig:
    """Change the assistance settings of one condition of a draft (see :func:`assistance_of`)."""
    _require_draft(study)
    return apply_assistance(assistance_of(study, condition), fields)
