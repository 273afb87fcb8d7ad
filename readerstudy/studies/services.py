"""Write paths of the study design: create, configure (draft only), open, close."""

import copy
import secrets

from django.db import transaction
from django.utils import timezone

from readerstudy.accounts.models import Role
from readerstudy.cases.models import Case

from .conditions import configure_assistance, create_conditions
from .designs import DESIGNS, design_spec
from .endpoint_rules import check_endpoints
from .errors import ProtocolConflict, StudyError, TruthMissing
from .models import (
    MAX_WASHOUT_DAYS,
    Assignment,
    Endpoint,
    Question,
    ReaderStudy,
    ScheduleEntry,
    StudyCase,
    StudyReader,
)
from .presets import PRESETS
from .questions import validate_question_definition, validate_show_if
from .randomization import balanced_split, derive_seed, seeded_order
from .selectors import missing_truth


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
    preset: str = "seed000",
    questions: list[dict] | None = None,
    endpoints: list[dict] | None = None,
    blind_coordinators: bool = True,
    conditions: list[dict] | None = None,
) -> ReaderStudy:
    """A draft of a design, with the questions and endpoints of ``preset`` unless given, and
    its conditions ({code, name, assistance}; default: unaided and aided, an unaided-only
    study: unaided) with their sessions, arms and schedule."""
    if design not in DESIGNS:
        raise StudyError(
            "unknown_design", f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}"
        )
    if not title.strip():
        raise StudyError("title_required", "a study needs a title")
    if preset not in PRESETS:
        raise StudyError(
            "unknown_preset", f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}"
        )
    if not 0 <= washout_days <= MAX_WASHOUT_DAYS:
        raise StudyError(
            "bad_washout", f"washout days must be from 0 to {MAX_WASHOUT_DAYS} (ten years)"
        )
    study = ReaderStudy.objects.create(
        title=title.strip(),
        description=description,
        design=design,
        randomization_seed=secrets.randbits(62)
        if randomization_seed is None
        else randomization_seed,
        washout_days=washout_days,
        blind_coordinators=blind_coordinators,
        created_by=created_by,
    )
    create_conditions(study, conditions)
    chosen = PRESETS[preset]
    set_questions(study, questions or copy.deepcopy(chosen.questions))
    if endpoints is None and questions is None:
        endpoints = copy.deepcopy(chosen.endpoints)
    if endpoints:
        set_endpoints(study, endpoints)
    return study


@transaction.atomic
def set_questions(study: ReaderStudy, questions: list[dict]) -> list[Question]:
    """Replace the draft's questions; endpoints keep pointing at the questions of their codes."""
    _require_draft(study)
    codes = [q.get("code") for q in questions]
    if len(set(codes)) != len(codes):
        raise StudyError("duplicate_question", "question codes must be unique")
    links = [
        (e, e.question and e.question.code, e.rating_question and e.rating_question.code)
        for e in study.endpoints.select_related("question", "rating_question")
    ]
    study.questions.all().delete()
    created = []
    earlier: dict[str, dict] = {}
    for order, spec in enumerate(questions):
        try:
            validate_question_definition(
                spec.get("type"), spec.get("options", []), spec.get("config") or {}
            )
            validate_show_if(spec.get("show_if"), earlier)
        except ValueError as exc:
            raise StudyError("bad_question", f"question {spec.get('code')!r}: {exc}") from None
        earlier[spec["code"]] = spec
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
                show_if=spec.get("show_if") or {},
                config=spec.get("config") or {},
            )
        )
    _relink_endpoints(links, {q.code: q for q in created})
    return created


def _relink_endpoints(links, by_code: dict[str, Question]) -> None:
    for endpoint, question, rating in links:
        endpoint.question = by_code.get(question) if question else None
        endpoint.rating_question = by_code.get(rating) if rating else None
        endpoint.save(update_fields=["question", "rating_question"])  # one each: audited


@transaction.atomic
def set_endpoints(study: ReaderStudy, endpoints: list[dict]) -> list[Endpoint]:
    """Replace the draft's endpoints (specs name their questions by code; see endpoint_rules)."""
    _require_draft(study)
    cleaned = check_endpoints(endpoints, {q.code: q for q in study.questions.all()})
    study.endpoints.all().delete()
    return [  # one by one: a bulk insert would bypass the audit trail (a study has a few)
        Endpoint.objects.create(study=study, order=order, **spec)
        for order, spec in enumerate(cleaned)
    ]


@transaction.atomic
def apply_preset(study: ReaderStudy, code: str) -> ReaderStudy:
    """Replace the draft's questions and endpoints with those of a preset."""
    _require_draft(study)
    preset = PRESETS.get(code)
    if preset is None:
        raise StudyError(
            "unknown_preset", f"unknown preset {code!r}; choose one of {', '.join(PRESETS)}"
        )
    study.endpoints.all().delete()
    set_questions(study, copy.deepcopy(preset.questions))
    set_endpoints(study, copy.deepcopy(preset.endpoints))
    return study


@transaction.atomic
def add_cases(study: ReaderStudy, cases) -> int:
    _require_draft(study)
    existing = set(study.study_cases.values_list("case_id", flat=True))
    practice = set(study.practice_cases.values_list("case_id", flat=True))
    new = []
    for case in cases:
        if case.status != Case.Status.READY:
            raise StudyError("case_not_ready", f"case {case.code} is {case.status}")
        if case.pk in practice:
            raise StudyError(
                "practice_case_in_study",
                f"case {case.code} is a practice case of this study; it cannot also be analysed",
            )
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


__all__ = ["configure_assistance"]  # the assistance settings of one condition (.conditions)


def _unconfigured(study: ReaderStudy, codes: list[str]) -> list[str]:
    """The study's aided conditions that name no model version."""
    configured = dict(
        study.assistance_configs.filter(condition__code__in=codes).values_list(
            "condition__code", "model_version_id"
        )
    )
    return [c for c in codes if configured.get(c) is None]


@transaction.atomic
def open_study(study: ReaderStudy, *, truth_pending_allowed: bool) -> ReaderStudy:
    """Freeze the design and generate every reader's stored, seeded orders.

    ``truth_pending_allowed`` is the coordinator's answer to "open now, truth will be added
    later", required of every caller: ``False`` refuses a study with cases that have no truth
    for its endpoint, naming them; ``True`` opens it and records the choice.
    """
    study = ReaderStudy.objects.select_for_update().get(pk=study.pk)
    _require_draft(study)
    spec = design_spec(study.design, list(study.conditions.values_list("code", flat=True)))
    study_cases = list(study.study_cases.select_related("case"))
    readers = list(study.readers.select_related("user"))
    if not study_cases:
        raise StudyError("no_cases", "add at least one case before opening the study")
    if not readers:
        raise StudyError("no_readers", "enroll at least one reader before opening the study")
    _check_endpoints_for_opening(study)
    unconfigured = _unconfigured(study, list(spec.aided_conditions))
    if unconfigured:
        raise StudyError(
            "no_model",
            f"choose the model version whose outputs the aided reads show (condition "
            f"{', '.join(unconfigured)})",
        )
    if not truth_pending_allowed:
        missing = missing_truth(study)
        if missing:
            described = {e.code: _describe(e) for e in study.endpoints.all()}
            raise TruthMissing(missing, described)

    root = study.randomization_seed
    if spec.crossover_groups:
        groups = balanced_split(
            derive_seed(root, "case-groups"), [sc.case.code for sc in study_cases],
            spec.case_groups,
        )  # fmt: skip
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
        reader.save(update_fields=["arm", "order_seed"])  # one each: the arm drawn is audited

    for reader in readers:
        _generate_assignments(study, reader, study_cases, schedule, spec)

    study.status = ReaderStudy.Status.OPEN
    study.opened_at = timezone.now()
    study.truth_pending_allowed = bool(truth_pending_allowed)
    study.save(update_fields=["status", "opened_at", "truth_pending_allowed"])
    return study


def _describe(endpoint: Endpoint) -> str:
    return f"{endpoint.truth_field}: {' / '.join(label['value'] for label in endpoint.labels)}"


def _check_endpoints_for_opening(study: ReaderStudy) -> None:
    """Every endpoint answered by a question that still fits it; exactly one primary."""
    endpoints = list(study.endpoints.select_related("question", "rating_question"))
    unanswered = [e.code for e in endpoints if e.question is None]
    if unanswered:
        raise StudyError(
            "endpoint_question", f"endpoint(s) without a question: {', '.join(unanswered)}"
        )
    check_endpoints(
        [
            {
                "code": e.code, "kind": e.kind, "truth_field": e.truth_field, "labels": e.labels,
                "question": e.question and e.question.code, "is_primary": e.is_primary,
                "rating_question": e.rating_question.code if e.rating_question else None,
            }
            for e in endpoints
        ],
        {q.code: q for q in study.questions.all()},
    )  # fmt: skip


def _generate_assignments(study, reader, study_cases, schedule, spec) -> None:
    by_code = {sc.case.code: sc for sc in study_cases}
    entries = [e for e in schedule if e.arm_id == reader.arm_id]
    sessions = sorted({e.session for e in entries}, key=lambda s: s.index)
    reads: list[Assignment] = []
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
        reads.extend(Assignment.objects.bulk_create(rows))
    if spec.chained:
        _chain(reads, spec.conditions)


def _chain(reads: list[Assignment], conditions: tuple[str, ...]) -> None:
    """Each read of a case waits for the lock of the same case's read in the previous
    condition of the study's order (unaided, then each aided condition in turn)."""
    rank = {code: i for i, code in enumerate(conditions)}
    by_case: dict[int, list[Assignment]] = {}
    for row in reads:
        by_case.setdefault(row.study_case_id, []).append(row)
    chained = []
    for rows in by_case.values():
        rows.sort(key=lambda r: rank[r.condition])
        for before, row in zip(rows, rows[1:], strict=False):
            row.prerequisite = before
            chained.append(row)
    Assignment.objects.bulk_update(chained, ["prerequisite"])


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
