"""The `softmax` assignment: its reference, and its samples graded through the real CLI."""
import warnings

import keras
import numpy as np
import pytest

from autograder import checks
from conftest import grade_samples, lost
from sample_contract import SampleContract
from reference import softmax as ref
from reference import softmax_checks, softmax_samples

USES_SCIPY = {"softmax": "from scipy.special import softmax as _softmax\n\n\ndef softmax(z):\n"
                         "    return _softmax(z, axis=-1)\n"}
# scipy.special in log_softmax, and a cross_entropy that does not call log_softmax
SCIPY_IN_LOG_SOFTMAX = {
    "log_softmax": "from scipy.special import logsumexp\n\n\ndef log_softmax(z):\n"
                   "    z = np.asarray(z, dtype=np.float64)\n    return z - logsumexp(z, axis=-1, keepdims=True)\n",
    "cross_entropy": "def cross_entropy(logits, labels):\n"
                     "    z = logits - logits.max(axis=1, keepdims=True)\n"
                     "    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n"
                     "    return float(-np.mean(logp[np.arange(len(labels)), labels]))\n",
}


def test_reference_softmax_is_stable_and_consistent():
    z = np.array([[1e4, 0.0, -1e4], [3.0, 1.0, -2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p, logp = ref.softmax(z), ref.log_softmax(z)
    assert np.all(np.isfinite(logp)) and np.allclose(p.sum(axis=-1), 1.0)
    assert np.allclose(np.exp(logp), p) and logp[0, 2] == pytest.approx(-2e4)


@pytest.mark.parametrize("seed", range(20))
def test_the_reference_loss_is_keras_loss_on_the_batches_the_check_draws(seed):
    """cross_entropy_agrees_with_keras takes the reference's value for Keras's: it must be, to its tolerance."""
    logits, labels = softmax_checks.random_batch(np.random.default_rng(seed))
    logits = logits.astype(np.float32)
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    assert checks.rel_error(ref.cross_entropy(logits.astype(np.float64), labels), float(keras_loss)) < 1e-5


def test_reference_loss_gradient_matches_centred_differences():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    numeric = checks.numerical_gradient(lambda value: ref.cross_entropy(value, labels), logits)
    assert checks.rel_error(ref.cross_entropy_grad(logits, labels), numeric) < 1e-8


def test_the_checks_digits_are_scikit_learns_own():
    from sklearn.datasets import load_digits
    X, y = softmax_checks.digits()
    expected_X, expected_y = load_digits(return_X_y=True)
    assert np.array_equal(X, expected_X / 16.0) and np.array_equal(y, expected_y) and y.dtype == expected_y.dtype


def test_reference_accuracy_on_held_out_digits_is_what_the_threshold_comes_from():
    X_train, y_train, X_test, y_test = softmax_checks.digits_split(np.random.default_rng(0))
    W, b, losses = ref.train_softmax_classifier(X_train, y_train, 10, *softmax_checks.DIGITS_SETTINGS, 0)
    assert losses[0] == pytest.approx(np.log(10), abs=0.02)  # CS231n's first sanity check
    assert np.mean(ref.predict(W, b, X_test) == y_test) > 0.93


def test_reference_keras_classifier_outputs_logits():
    rng = np.random.default_rng(1)
    W, b, X = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(4, 5))
    model = ref.build_keras_classifier(5, 3)
    model.layers[-1].set_weights([W, b])
    assert np.allclose(keras.ops.convert_to_numpy(model(X)), X @ W + b, atol=1e-5)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return grade_samples("softmax", tmp_path_factory.mktemp("softmax"),
                         {"uses_scipy": USES_SCIPY, "scipy_in_log_softmax": SCIPY_IN_LOG_SOFTMAX})


class TestSamples(SampleContract):
    assignment_id = "softmax"
    figures = {"curve": 1, "pass_line": 1}
    bugs = softmax_samples.BUGS


def test_a_softmax_that_overflows_loses_the_stability_check_only(results):
    missed = lost(results["overflow"])
    assert [c["name"] for c in missed] == ["softmax_is_stable"]
    assert "logits up to 1e4" in missed[0]["message"]


def test_scipy_special_in_a_numpy_function_is_a_policy_breach(results):
    result = results["uses_scipy"]
    assert result["status"] == "policy" and "softmax uses scipy.special" in result["message"]
    assert all("softmax" in c["functions"] for c in lost(result))
    assert any(c["points"] > 0 for c in result["checks"])


def test_the_penalty_falls_on_the_function_that_uses_the_library_not_on_checks_next_to_it(results):
    result = results["scipy_in_log_softmax"]
    assert result["status"] == "policy" and "log_softmax uses scipy.special" in result["message"]
    assert {c["grade_id"] for c in lost(result)} == {"test_log_softmax"}
    exercised_beside = [c for c in result["checks"] if c["grade_id"] == "test_cross_entropy"]
    assert all("log_softmax" in c["functions"] and c["points"] == c["max_points"] for c in exercised_beside)
