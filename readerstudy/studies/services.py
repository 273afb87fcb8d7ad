"""Write paths of the study design: create, configure (draft only), open, close."""

import secrets

from django.db import transaction
from django.utils import timezone

from readerstudy.accounts.models import Role
from readerstudy.cases.models import Case

from .designs import DESIGNS
from .errors import ProtocolConflict, StudyError, TruthMissing
from .models import (
    MAX_WASHOUT_DAYS,
    Arm,
    Assignment,
    AssistanceConfig,
    Condition,
    Question,
    ReaderStudy,
    ReadingSession,
    ScheduleEntry,
    StudyCase,
    StudyReader,
)
from .questions import seed000_questions, validate_question_definition
from .randomization import balanced_split, derive_seed, seeded_order
from .selectors import cases_without_truth


def _require_draft(study: ReaderStudy) -> None:
    if study.status != ReaderStudy.Status.DRAFT:
        raise ProtocolConflict(
            "design_frozen", f"the study is {study.status}: its design can no longer change"
        )


@transaction.atomic
def create_study(
    *,
    title: str,
    design: str,
    created_by=None,
    randomization_seed: int | None = None,
    washout_days: int = 0,
    description: str = "",
    questions: list[dict] | None = None,
    positive_label: str = "cvst_ich",
    negative_label: str = "sich",
    blind_coordinators: bool = True,
) -> ReaderStudy:
    if design not in DESIGNS:
        raise StudyError(
            "unknown_design", f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}"
        )
    if not title.strip():
        raise StudyError("title_required", "a study needs a title")
    if not 0 <= washout_days <= MAX_WASHOUT_DAYS:
        raise StudyError(
            "bad_washout", f"washout days must be from 0 to {MAX_WASHOUT_DAYS} (ten years)"
        )
    spec = DESIGNS[design]
    study = ReaderStudy.objects.create(
        title=title.strip(),
        description=description,
        design=design,
        randomization_seed=secrets.randbits(62)
        if randomization_seed is None
        else randomization_seed,
        washout_days=washout_days,
        positive_label=positive_label,
        negative_label=negative_label,
        blind_coordinators=blind_coordinators,
        created_by=created_by,
    )
    sessions = {
        s.index: ReadingSession.objects.create(
            study=study,
            index=s.index,
            name=s.name,
            washout_days=washout_days if s.after_washout else 0,
        )
        for s in spec.sessions
    }
    arms = {name: Arm.objects.create(study=study, name=name) for name in spec.arms}
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
    set_questions(study, questions or seed000_questions(positive_label, negative_label))
    AssistanceConfig.objects.create(
        study=study, heatmaps=["gradcampp", "ig", "shap", "occlusion"] if spec.has_aided else []
    )
    return study


@transaction.atomic
def set_questions(study: ReaderStudy, questions: list[dict]) -> list[Question]:
    _require_draft(study)
    codes = [q.get("code") for q in questions]
    if len(set(codes)) != len(codes):
        raise StudyError("duplicate_question", "question codes must be unique")
    study.questions.all().delete()
    created = []
    for order, spec in enumerate(questions):
        try:
            validate_question_definition(spec.get("type"), spec.get("options", []))
        except ValueError as exc:
            raise StudyError("bad_question", f"question {spec.get('code')!r}: {exc}") from None
        created.append(
            Question.objects.create(
                study=study,
                code=spec["code"],
                type=spec["type"],
                text=spec.get("text", spec["code"]),
                help_text=spec.get("help_text", ""),
                options=spec.get("options", []),
                required=spec.get("required", True),
                order=order,
                is_primary=spec.get("is_primary", False),
            )
        )
    return created


@transaction.atomic
def add_cases(study: ReaderStudy, cases) -> int:
    _require_draft(study)
    existing = set(study.study_cases.values_list("case_id", flat=True))
    new = []
    for case in cases:
        if case.status != Case.Status.READY:
            raise StudyError("case_not_ready", f"case {case.code} is {case.status}")
        if case.pk not in existing:
            new.append(StudyCase(study=study, case=case))
            existing.add(case.pk)
    StudyCase.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def set_cases(study: ReaderStudy, cases) -> tuple[int, int]:
    """Make the draft's case set exactly ``cases``: (added, removed)."""
    _require_draft(study)
    cases = list(cases)
    added = add_cases(study, cases)
    removed, _ = study.study_cases.exclude(case__in=[c.pk for c in cases]).delete()
    return added, removed


@transaction.atomic
def remove_case(study: ReaderStudy, case) -> None:
    _require_draft(study)
    study.study_cases.filter(case=case).delete()


@transaction.atomic
def enroll_reader(study: ReaderStudy, user) -> StudyReader:
    _require_draft(study)
    if user.role != Role.READER:
        raise StudyError("not_a_reader", f"user {user.username} does not have the reader role")
    reader, _ = StudyReader.objects.get_or_create(study=study, user=user)
    return reader


@transaction.atomic
def remove_reader(study: ReaderStudy, user) -> None:
    _require_draft(study)
    deleted, _ = study.readers.filter(user=user).delete()
    if not deleted:
        raise StudyError("not_enrolled", f"{user.username} is not a reader of this study")


@transaction.atomic
def set_readers(study: ReaderStudy, users) -> tuple[int, int]:
    """Make the draft's readers exactly ``users``: (added, removed)."""
    _require_draft(study)
    users = list(users)
    before = set(study.readers.values_list("user_id", flat=True))
    for user in users:
        enroll_reader(study, user)
    removed, _ = study.readers.exclude(user__in=[u.pk for u in users]).delete()
    return len({u.pk for u in users} - before), removed


@transaction.atomic
def delete_draft(study: ReaderStudy) -> None:
    """Delete a draft with its design; a study that was opened keeps its record."""
    study = ReaderStudy.objects.select_for_update().get(pk=study.pk)
    _require_draft(study)
    study.delete()


@transaction.atomic
def configure_assistance(study: ReaderStudy, **fields) -> AssistanceConfig:
    _require_draft(study)
    config = study.assistance
    allowed = {
        "model_version", "show_probability", "show_decision", "operating_point", "heatmaps",
        "show_mask_outline", "show_model_version", "heatmap_opacity",
    }  # fmt: skip
    unknown = set(fields) - allowed
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
    config.full_clean()
    config.save()
    return config


@transaction.atomic
def open_study(study: ReaderStudy, *, truth_pending_allowed: bool) -> ReaderStudy:
    """Freeze the design and generate every reader's stored, seeded orders.

    ``truth_pending_allowed`` is the coordinator's answer to "open now, truth will be added
    later", required of every caller: ``False`` refuses a study with cases that have no truth
    for its endpoint, naming them; ``True`` opens it and records the choice.
    """
    study = ReaderStudy.objects.select_for_update().get(pk=study.pk)
    _require_draft(study)
    spec = DESIGNS[study.design]
    study_cases = list(study.study_cases.select_related("case"))
    readers = list(study.readers.select_related("user"))
    if not study_cases:
        raise StudyError("no_cases", "add at least one case before opening the study")
    if not readers:
        raise StudyError("no_readers", "enroll at least one reader before opening the study")
    if not study.questions.filter(is_primary=True, type="binary").exists():
        raise StudyError("no_primary_question", "the study needs a primary binary question")
    if spec.has_aided and study.assistance.model_version is None:
        raise StudyError("no_model", "choose the model version whose outputs the aided reads show")
    if not truth_pending_allowed:
        missing = cases_without_truth(study)
        if missing:
            raise TruthMissing(study, missing)

    root = study.randomization_seed
    if spec.crossover_groups:
        groups = balanced_split(
            derive_seed(root, "case-groups"), [sc.case.code for sc in study_cases]
        )
        for sc in study_cases:
            sc.group = groups[sc.case.code]
        StudyCase.objects.bulk_update(study_cases, ["group"])

    arms = {arm.name: arm for arm in study.arms.all()}
    arm_names = list(spec.arms)
    allocation = seeded_order(derive_seed(root, "arms"), [r.user_id for r in readers])
    arm_of = {user_id: arm_names[i % len(arm_names)] for i, user_id in enumerate(allocation)}
    schedule = list(ScheduleEntry.objects.filter(arm__study=study).select_related("session", "arm"))

    for reader in readers:
        reader.arm = arms[arm_of[reader.user_id]]
        reader.order_seed = derive_seed(root, "reader", reader.user_id)
    StudyReader.objects.bulk_update(readers, ["arm", "order_seed"])

    for reader in readers:
        _generate_assignments(study, reader, study_cases, schedule, spec)

    study.status = ReaderStudy.Status.OPEN
    study.opened_at = timezone.now()
    study.truth_pending_allowed = bool(truth_pending_allowed)
    study.save(update_fields=["status", "opened_at", "truth_pending_allowed"])
    return study


def _generate_assignments(study, reader, study_cases, schedule, spec) -> None:
    by_code = {sc.case.code: sc for sc in study_cases}
    entries = [e for e in schedule if e.arm_id == reader.arm_id]
    sessions = sorted({e.session for e in entries}, key=lambda s: s.index)
    unaided_of: dict[int, Assignment] = {}
    pending_aided: list[Assignment] = []
    for session in sessions:
        seed = derive_seed(reader.order_seed, "session", session.index)
        order = seeded_order(seed, list(by_code))
        steps = sorted((e for e in entries if e.session_id == session.pk), key=lambda e: e.step)
        rows = []
        for code in order:
            sc = by_code[code]
            for e in steps:
                if e.case_group and e.case_group != sc.group:
                    continue
                rows.append(
                    Assignment(
                        study=study, reader=reader, study_case=sc, session=session,
                        condition=e.condition, position=0, seed=seed,
                    )
                )  # fmt: skip
        for position, row in enumerate(rows):
            row.position = position
        created = Assignment.objects.bulk_create(rows)
        for row in created:
            if row.condition == Condition.UNAIDED:
                unaided_of[row.study_case_id] = row
            else:
                pending_aided.append(row)
    if spec.aided_needs_unaided_lock:
        for row in pending_aided:
            row.prerequisite = unaided_of.get(row.study_case_id)
        Assignment.objects.bulk_update(pending_aided, ["prerequisite"])


@transaction.atomic
def close_study(study: ReaderStudy) -> ReaderStudy:
    study = ReaderStudy.objects.select_for_update().get(pk=study.pk)
    if study.status != ReaderStudy.Status.OPEN:
        raise ProtocolConflict(
            "not_open", f"only an open study can be closed (it is {study.status})"
        )
    study.status = ReaderStudy.Status.CLOSED
    study.closed_at = timezone.now()
    study.save(update_fields=["status", "closed_at"])
    return study


@transaction.atomic
def grant_statistician_access(study: ReaderStudy, granted: bool = True) -> ReaderStudy:
    study.statistician_access = granted
    study.save(update_fields=["statistician_access"])
    return study
