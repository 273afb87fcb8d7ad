"""The vote on one item: its majority under the panel's rule, or the adjudicator's turn."""

from collections import Counter
from dataclasses import dataclass

from .models import Rule


@dataclass(frozen=True)
class Tally:
    majority: object  # the winning value; None when there is none
    needs_adjudication: bool


def tally(values: list, rule: str) -> Tally:
    """More than half of the annotators agreeing is a majority. Under the unanimous rule any
    disagreement goes to the adjudicator; under the majority rule only items without one."""
    counts = Counter(_hashable(v) for v in values)
    value, count = counts.most_common(1)[0]
    has_majority = count * 2 > len(values)
    unanimous = len(counts) == 1
    if rule == Rule.UNANIMOUS:
        return Tally(value if has_majority else None, not unanimous)
    return Tally(value if has_majority else None, not has_majority)


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value
