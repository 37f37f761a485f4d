"""The `backprop` reference solution on its own (docs/assignments.md §1)."""
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.checks import Fail
from reference import backprop as ref
from reference import backprop_checks

X_XOR = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_XOR = np.array([[0.0], [1.0], [1.0], [0.0]])


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)


def random_problem(seed, n, n_in, n_hidden, n_out):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(n_in, n_hidden)), "b1": rng.normal(size=n_hidden),
              "W2": rng.normal(size=(n_hidden, n_out)), "b2": rng.normal(size=n_out)}
    return params, rng.normal(size=(n, n_in)), rng.uniform(size=(n, n_out))


@pytest.mark.parametrize("seed,n,n_in,n_hidden,n_out", [(0, 1, 2, 3, 1), (1, 7, 4, 5, 3), (2, 16, 3, 8, 2)])
@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
def test_backward_matches_centred_differences(seed, n, n_in, n_hidden, n_out, name):
    params, X, Y = random_problem(seed, n, n_in, n_hidden, n_out)
    analytic = ref.backward(params, ref.forward(params, X)[1], Y)[name]
    numeric = ref.numerical_gradient(lambda: ref.mse_loss(ref.forward(params, X)[0], Y), params[name])
    assert analytic.shape == params[name].shape
    assert np.linalg.norm(analytic) > 0
    assert rel_error(analytic, numeric) < 1e-7


def test_sigmoid_is_stable_and_exact_at_extremes():
    x = np.array([-1e4, -745.0, -30.0, 0.0, 30.0, 745.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = ref.sigmoid(x)
    assert not np.isnan(s).any()
    np.testing.assert_allclose(s, 1.0 / (1.0 + np.exp(-np.clip(x, -700, 700))), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ref.sigmoid(-x), 1.0 - s, atol=1e-15)
    np.testing.assert_allclose(ref.sigmoid_grad(s), s * (1.0 - s))


@pytest.mark.parametrize("n_in,n_hidden,n_out,seed", [(2, 4, 1, 0), (300, 200, 100, 3)])
def test_init_params_shapes_variance_and_draw_order(n_in, n_hidden, n_out, seed):
    params = ref.init_params(n_in, n_hidden, n_out, np.random.default_rng(seed))
    check = np.random.default_rng(seed)
    np.testing.assert_array_equal(params["W1"], check.normal(0.0, np.sqrt(1 / n_in), (n_in, n_hidden)))
    np.testing.assert_array_equal(params["W2"], check.normal(0.0, np.sqrt(1 / n_hidden), (n_hidden, n_out)))
    np.testing.assert_array_equal(params["b1"], np.zeros(n_hidden))
    np.testing.assert_array_equal(params["b2"], np.zeros(n_out))
    if params["W1"].size >= 10_000:
        assert abs(params["W1"].var() * n_in - 1) < 0.05
        assert abs(params["W2"].var() * n_hidden - 1) < 0.05


def test_sgd_update_returns_new_values_without_mutating():
    params, _, _ = random_problem(4, 3, 3, 4, 2)
    grads, _, _ = random_problem(5, 3, 3, 4, 2)
    before = {k: v.copy() for k, v in params.items()}
    new = ref.sgd_update(params, grads, 0.3)
    assert new is not params and set(new) == set(params)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
        np.testing.assert_allclose(new[k], before[k] - 0.3 * grads[k], rtol=0, atol=1e-15)


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 2, 3)])
def test_numerical_gradient_is_centred_and_restores_x(shape):
    x = np.random.default_rng(6).normal(size=shape)
    original = x.copy()
    grad = ref.numerical_gradient(lambda: float(np.sum(x ** 3)), x, eps=1e-3)
    np.testing.assert_array_equal(x, original)
    # centred differences are off by exactly eps**2 for a cubic; one-sided ones by ~3*x*eps
    np.testing.assert_allclose(grad, 3 * original ** 2 + 1e-6, rtol=0, atol=1e-9)


def test_train_records_loss_before_each_update():
    params, losses = ref.train(X_XOR, Y_XOR, 3, 0.5, 4, seed=11)
    assert len(losses) == 4 and all(type(loss) is float for loss in losses)
    p = ref.init_params(2, 3, 1, np.random.default_rng(11))
    for loss in losses:
        y_hat, cache = ref.forward(p, X_XOR)
        assert loss == ref.mse_loss(y_hat, Y_XOR)
        p = ref.sgd_update(p, ref.backward(p, cache, Y_XOR), 0.5)
    for k in p:
        np.testing.assert_array_equal(params[k], p[k])


@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_train_learns_xor(seed):
    params, losses = ref.train(X_XOR, Y_XOR, 4, 2.0, 5000, seed)
    assert len(losses) == 5000 and losses[-1] < losses[0]
    assert ref.mse_loss(ref.forward(params, X_XOR)[0], Y_XOR) < 0.02


def test_the_xor_check_trains_the_reference_only_for_a_student_who_missed(monkeypatch):
    """The reference learns XOR from nearly every seed: it confirms a seed only when the student's train did not."""
    real_train, reference_seeds = ref.train, []

    def spy(*args):
        reference_seeds.append(args[-1])
        return real_train(*args)
    monkeypatch.setattr(ref, "train", spy)
    backprop_checks.train_learns_xor.run(SimpleNamespace(train=real_train), np.random.default_rng(5))
    assert reference_seeds == []
    stalls = SimpleNamespace(train=lambda X, Y, n_hidden, lr, epochs, seed: real_train(X, Y, n_hidden, lr, 1, seed))
    with pytest.raises(Fail, match="the mse is .*, not below 0.02"):
        backprop_checks.train_learns_xor.run(stalls, np.random.default_rng(5))
    assert len(reference_seeds) == 1  # the reference learned from the student's seed: the miss is the student's
