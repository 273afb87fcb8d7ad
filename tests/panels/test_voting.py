from readerstudy.panels.models import Rule
from readerstudy.panels.voting import tally


def test_a_majority_settles_an_item_under_the_majority_rule():
    result = tally(["lobar", "lobar", "deep"], Rule.MAJORITY)
    assert result.majority == "lobar" and not result.needs_adjudication


def test_no_majority_goes_to_the_adjudicator():
    result = tally(["lobar", "deep", "none"], Rule.MAJORITY)
    assert result.majority is None and result.needs_adjudication
    assert tally([True, False], Rule.MAJORITY).needs_adjudication  # a tie is no majority


def test_the_unanimous_rule_sends_any_disagreement_to_the_adjudicator():
    split = tally([True, True, False], Rule.UNANIMOUS)
    assert split.needs_adjudication and split.majority is True
    assert not tally([False, False, False], Rule.UNANIMOUS).needs_adjudication
