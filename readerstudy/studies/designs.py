"""The study designs as sessions, arms and schedules, for a study's k conditions.

:func:`design_spec` is pure: given a design and the study's condition codes in their order, it
answers the sessions (periods), the arms (sequences) and, for each arm x session x case group,
the condition read. For the default conditions (``unaided``, ``aided``) it answers the same
design the platform has always generated (see :data:`DESIGNS`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from string import ascii_uppercase

from .models import Condition, Design

UNAIDED = Condition.UNAIDED.value
DEFAULT_CONDITIONS = (UNAIDED, Condition.AIDED.value)
MAX_CONDITIONS = 8  # letters name case groups and arms; eight keeps arm names short


class DesignError(ValueError):
    """The conditions do not fit the design (the message says why)."""


@dataclass(frozen=True)
class SessionSpec:
    index: int
    name: str
    after_washout: bool


@dataclass(frozen=True)
class ScheduleSpec:
    arm: str
    session: int
    case_group: str  # "" = all cases
    condition: str
    step: int = 0


@dataclass(frozen=True)
class DesignSpec:
    sessions: tuple[SessionSpec, ...]
    schedule: tuple[ScheduleSpec, ...]
    crossover_groups: bool = False
    # each read of a case waits for the lock of the same case's read in the previous condition
    chained: bool = True
    conditions: tuple[str, ...] = DEFAULT_CONDITIONS

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(entry.arm for entry in self.schedule))

    @property
    def aided_conditions(self) -> tuple[str, ...]:
        return tuple(c for c in self.conditions if c != UNAIDED)

    @property
    def has_aided(self) -> bool:
        return bool(self.aided_conditions)

    @property
    def case_groups(self) -> tuple[str, ...]:
        """The crossover case groups (A, B, ...), one per condition; none otherwise."""
        return tuple(ascii_uppercase[: len(self.conditions)]) if self.crossover_groups else ()


def _session_name(code: str, names: dict[str, str]) -> str:
    name = names.get(code) or code.replace("_", " ").replace("-", " ").capitalize()
    return f"{name} session"


def _sequential(conditions: tuple[str, ...], names: dict[str, str]) -> DesignSpec:
    return DesignSpec(
        sessions=(SessionSpec(1, "Reading", False),),
        schedule=tuple(ScheduleSpec("all", 1, "", c, step) for step, c in enumerate(conditions)),
        conditions=conditions,
    )


def _sessions(conditions: tuple[str, ...], names: dict[str, str]) -> DesignSpec:
    return DesignSpec(
        sessions=tuple(
            SessionSpec(i, _session_name(c, names), i > 1) for i, c in enumerate(conditions, 1)
        ),
        schedule=tuple(ScheduleSpec("all", i, "", c) for i, c in enumerate(conditions, 1)),
        conditions=conditions,
    )


def _crossover(conditions: tuple[str, ...], names: dict[str, str]) -> DesignSpec:
    """A cyclic Latin square: in arm i, period j, case group g reads condition (g + i + j + 1)
    mod k. Each arm reads every group once in every condition, each period of an arm reads every
    condition once; the arm is named by the conditions its last group reads (letters by order),
    which for k = 2 are the arms AB and BA (arm AB reads group A aided first)."""
    k = len(conditions)
    letters = ascii_uppercase[:k]
    schedule = []
    for i in range(k):
        arm = "".join(letters[(i + j) % k] for j in range(k))
        for j in range(k):
            for g, group in enumerate(letters):
                schedule.append(ScheduleSpec(arm, j + 1, group, conditions[(g + i + j + 1) % k]))
    return DesignSpec(
        sessions=tuple(SessionSpec(j, f"Period {j}", j > 1) for j in range(1, k + 1)),
        schedule=tuple(schedule),
        crossover_groups=True,
        chained=False,
        conditions=conditions,
    )


def _unaided_only(conditions: tuple[str, ...], names: dict[str, str]) -> DesignSpec:
    return DesignSpec(
        sessions=(SessionSpec(1, "Reading", False),),
        schedule=(ScheduleSpec("all", 1, "", UNAIDED),),
        conditions=conditions,
    )


_BUILDERS: dict[str, Callable[[tuple[str, ...], dict[str, str]], DesignSpec]] = {
    Design.SEQUENTIAL_PER_CASE: _sequential,
    Design.TWO_SESSIONS: _sessions,
    Design.CROSSOVER: _crossover,
    Design.UNAIDED_ONLY: _unaided_only,
}


def check_conditions(design: str, conditions: list[str] | tuple[str, ...]) -> None:
    """Refuse conditions the design cannot read (:class:`DesignError` naming the problem)."""
    if design not in _BUILDERS:
        raise DesignError(f"unknown design {design!r}; choose one of {', '.join(_BUILDERS)}")
    codes = list(conditions)
    if len(set(codes)) != len(codes):
        raise DesignError(f"condition codes must be unique (got {', '.join(codes)})")
    if UNAIDED in codes and codes[0] != UNAIDED:
        raise DesignError("the unaided condition comes first")
    if design == Design.UNAIDED_ONLY:
        if codes != [UNAIDED]:
            raise DesignError("an unaided-only study has exactly one condition, unaided")
        return
    if not 2 <= len(codes) <= MAX_CONDITIONS:
        raise DesignError(
            f"{Design(design).label}: needs 2 to {MAX_CONDITIONS} conditions (has {len(codes)})"
        )


def default_conditions(design: str) -> tuple[str, ...]:
    return (UNAIDED,) if design == Design.UNAIDED_ONLY else DEFAULT_CONDITIONS


def design_spec(
    design: str, conditions: list[str] | tuple[str, ...], names: dict[str, str] | None = None
) -> DesignSpec:
    """The design for the study's condition codes in their order (``names``: display names of
    the conditions, for the session names of a design with one condition per session)."""
    check_conditions(design, conditions)
    return _BUILDERS[design](tuple(conditions), names or {})


# The designs of the default conditions (unaided, aided; unaided only: unaided).
DESIGNS: dict[str, DesignSpec] = {d: design_spec(d, default_conditions(d)) for d in _BUILDERS}
