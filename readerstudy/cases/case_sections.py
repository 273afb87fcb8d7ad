"""Sections downstream apps add to a case's page (panels: where the case's truth mask came
from). The case library cannot import them (data flows one way), so each registers, at
start-up, a function of the case that returns the section to show (a template and its
context) or None when it has nothing to say about the case."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CaseSection:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


CaseSectionSource = Callable[[Any], CaseSection | None]

_sources: list[CaseSectionSource] = []


def register_case_section(source: CaseSectionSource) -> None:
    """Add a section to every case page (once: registering it again changes nothing)."""
    if source not in _sources:
        _sources.append(source)


def case_sections(case) -> list[CaseSection]:
    """The registered sections that have something to show of ``case``, in registration order."""
    return [section for source in _sources if (section := source(case)) is not None]
