"""The model pseudo-reader's call and score per label, from per-label outputs."""

from readerstudy.ai.models import InferenceOutput
from readerstudy.exports.model_reads import _model_call_of, model_call

OUTPUT = InferenceOutput(
    probabilities={"any": 0.8, "iph": 0.3, "location": {"deep": 0.7, "lobar": 0.3}},
    decisions={"default": {"any": 1, "iph": 0, "deep": 1, "lobar": 0}},
)


def test_each_label_gets_its_own_call_and_probability():
    assert _model_call_of(OUTPUT, "default", "any") == (1, 0.8)
    assert _model_call_of(OUTPUT, "default", "iph") == (0, 0.3)


def test_no_row_without_a_call_or_a_probability():
    assert model_call(OUTPUT, "elsewhere", "any") is None  # no such operating point
    assert _model_call_of(OUTPUT, "default", "sah") == (None, None)  # not predicted
    # a multi-class head's distribution is no score of a binary endpoint
    assert _model_call_of(OUTPUT, "default", "location") == (None, None)
    # the class calls exist, but without a probability of their own there is no row
    assert _model_call_of(OUTPUT, "default", "deep") == (None, None)
