"""The `rnn_textgen` assignment: its reference, and its samples graded through the real CLI."""
import numpy as np
import pytest

from autograder.checks import numerical_gradient, rel_error
from conftest import grade_samples, lost
from sample_contract import RegradedUnderLoad, SampleContract
from reference import rnn_textgen as ref
from reference import rnn_textgen_checks as checks
from reference import rnn_textgen_samples

SLOW_TRAINING = {"train_char_model": "def train_char_model(text, seq_len, embed_dim, units, epochs, seed):\n"
                                     "    while True:  # a training that computes forever\n        pass\n"}


def test_reference_bptt_passes_a_gradient_check_through_every_step():
    rng = np.random.default_rng(0)
    x, h0 = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4))
    Wx, Wh, b = rng.normal(0, 0.5, (3, 4)), rng.normal(0, 0.5, (4, 4)), rng.normal(size=4)
    dh = np.zeros((2, 6, 4))
    dh[:, -1] = rng.normal(size=(2, 4))  # only the last step is read: every gradient comes back through time
    dx, dh0, dWx, dWh, db = ref.rnn_backward(dh, ref.rnn_forward(x, h0, Wx, Wh, b)[1])
    loss = lambda value: float(np.sum(ref.rnn_forward(x, value, Wx, Wh, b)[0] * dh))  # noqa: E731
    assert rel_error(dh0, numerical_gradient(loss, h0)) < 1e-8
    assert np.abs(dx[:, 0]).sum() > 0


def test_reference_clip_keeps_the_direction_and_caps_the_norm():
    grads = [np.full((2, 2), 3.0), np.full(3, -4.0)]
    clipped = ref.clip_by_global_norm(grads, 1.0)
    assert np.sqrt(sum(np.sum(g**2) for g in clipped)) == pytest.approx(1.0)
    assert np.allclose(clipped[0] / grads[0], clipped[1][0] / grads[1][0])


def test_the_grader_corpus_is_fixed_and_its_validation_text_in_vocabulary():
    text, validation = checks.corpus()
    assert len(text) == 12000 and set(validation) <= set(text)
    assert checks.unigram_bits_per_character(text, validation) > 3.5


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    # a shorter cell timeout than the assignment's 90 s, still well above a correct training's few seconds,
    # so that the `slow` sample times out sooner
    return grade_samples("rnn_textgen", tmp_path_factory.mktemp("rnn_textgen"), TestSamples.extra,
                         options=TestSamples.options)


class TestSamples(SampleContract, RegradedUnderLoad):
    assignment_id = "rnn_textgen"
    figures = {"curve": 1, "table": 1, "pass_line": 2}
    bugs = rnn_textgen_samples.BUGS
    regraded = "slow"  # its training check stops on its time limit, the same on a busy machine as on an idle one
    extra = {"slow": SLOW_TRAINING}
    options = ("--cell-timeout", "30")  # still more than twice the reference training's 12.5 s of CPU


def test_the_recipe_with_a_tenth_of_the_windows_held_out_for_validation_earns_the_training_checks(results):
    assert "validation_data=" in rnn_textgen_samples.OTHER_STYLE["train_char_model"]
    assert not [c for c in lost(results["other_style"]) if c["grade_id"] == "test_train_char_model"]


def test_a_generator_that_feeds_only_the_last_character_loses_the_recurrent_greedy_check(results):
    assert [c["name"] for c in lost(results["generate_from_last_character"])] == ["greedy_generation_follows_the_model"]


def test_training_far_past_the_budget_times_out_and_keeps_earlier_points(results):
    result = results["slow"]
    assert result["status"] == "timeout"
    assert [c["name"] for c in lost(result)] == ["trained_model_beats_unigram", "trained_model_is_near_the_reference"]
    assert result["score"] == 88
