"""The four study designs as sessions, arms and schedules."""

from dataclasses import dataclass

from .models import Condition, Design


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
    aided_needs_unaided_lock: bool = True

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(entry.arm for entry in self.schedule))

    @property
    def has_aided(self) -> bool:
        return any(entry.condition == Condition.AIDED for entry in self.schedule)


U, A = Condition.UNAIDED, Condition.AIDED

DESIGNS: dict[str, DesignSpec] = {
    # Seed 000: each case read unaided, locked, then immediately read aided.
    Design.SEQUENTIAL_PER_CASE: DesignSpec(
        sessions=(SessionSpec(1, "Reading", False),),
        schedule=(ScheduleSpec("all", 1, "", U, 0), ScheduleSpec("all", 1, "", A, 1)),
    ),
    Design.TWO_SESSIONS: DesignSpec(
        sessions=(SessionSpec(1, "Unaided session", False), SessionSpec(2, "Aided session", True)),
        schedule=(ScheduleSpec("all", 1, "", U), ScheduleSpec("all", 2, "", A)),
    ),
    # Crossover: case groups A/B; arm AB reads A aided first, arm BA reads B aided first.
    Design.CROSSOVER: DesignSpec(
        sessions=(SessionSpec(1, "Period 1", False), SessionSpec(2, "Period 2", True)),
        schedule=(
            ScheduleSpec("AB", 1, "A", A),
            ScheduleSpec("AB", 1, "B", U),
            ScheduleSpec("AB", 2, "A", U),
            ScheduleSpec("AB", 2, "B", A),
            ScheduleSpec("BA", 1, "A", U),
            ScheduleSpec("BA", 1, "B", A),
            ScheduleSpec("BA", 2, "A", A),
            ScheduleSpec("BA", 2, "B", U),
        ),
        crossover_groups=True,
        aided_needs_unaided_lock=False,
    ),
    Design.UNAIDED_ONLY: DesignSpec(
        sessions=(SessionSpec(1, "Reading", False),),
        schedule=(ScheduleSpec("all", 1, "", U),),
    ),
}
