"""Hidden checks of the `backprop` assignment: every verdict is reached here, against the reference."""
import numpy as np

from autograder.checks import (Fail, as_array, as_float, as_tuple, check, curve, draw_seed, expect_close,
                               expect_gradient, expect_keys, expect_named, expect_stable)
from reference import backprop as ref
from reference import backprop_probes as probes

PARAMS = ("W1", "b1", "W2", "b2")
X_XOR = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_XOR = np.array([[0.0], [1.0], [1.0], [0.0]])
# The lecture notes' worked example (note A): y_hat = 0.8835, loss 0.0136 as 1/2 (t - o)^2.
WORKED_X = np.array([[1.0, 2.0]])
WORKED_Y = np.array([[1.0]])
WORKED_PARAMS = {
    "W1": np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
    "b1": np.array([0.1, 0.2, 0.3]),
    "W2": np.array([[0.7], [0.8], [0.9]]),
    "b2": np.array([0.1]),
}


def random_problem(rng):
    """A random network, batch and targets of random sizes."""
    n, n_in, n_hidden, n_out = (int(v) for v in rng.integers(2, 7, size=4))
    params = ref.init_params(n_in, n_hidden, n_out, rng)
    params["b1"] = rng.normal(size=n_hidden)
    params["b2"] = rng.normal(size=n_out)
    return params, rng.normal(size=(n, n_in)), rng.uniform(size=(n, n_out))


def forward_output(value):
    return as_tuple(value, 2, "forward")[0]


@check("test_sigmoid", points=4, functions=["sigmoid"])
def sigmoid_matches_reference(student, rng):
    x = rng.normal(0, 4, size=(5, 7))
    expect_close(student.sigmoid(x), ref.sigmoid(x), "sigmoid(x)")


@check("test_sigmoid", points=4, functions=["sigmoid"])
def sigmoid_is_stable(student, rng):
    x = np.array([-1e4, -750.0, -40.0, 0.0, 40.0, 750.0, 1e4]) * rng.choice([1, -1])
    expect_stable(student, "sigmoid", x, ref.sigmoid(x), "for |x| up to 1e4", quiet=True)


@check("test_sigmoid_grad", points=4, functions=["sigmoid_grad"])
def sigmoid_grad_matches_reference(student, rng):
    s = rng.uniform(size=(4, 6))
    expect_close(student.sigmoid_grad(s), ref.sigmoid_grad(s), "sigmoid_grad(s)")


@check("test_init_params", points=3, functions=["init_params"])
def init_params_shapes_and_zero_biases(student, rng):
    sizes = [int(v) for v in rng.integers(2, 9, size=3)]
    got = student.probe(probes.seeded_init_params, sizes=sizes, seed=draw_seed(rng))
    expected = ref.init_params(*sizes, np.random.default_rng(0))
    expect_keys(got, PARAMS, "init_params(...)")
    for name in PARAMS:
        as_array(got[name], f"init_params(...)[{name!r}]", expected[name].shape)
    if np.any(as_array(got["b1"], "b1")) or np.any(as_array(got["b2"], "b2")):
        raise Fail("init_params biases should be zero")


@check("test_init_params", points=5, functions=["init_params"])
def init_params_draws_like_the_contract(student, rng):
    sizes, seed = [int(v) for v in rng.integers(2, 9, size=3)], draw_seed(rng)
    got = student.probe(probes.seeded_init_params, sizes=sizes, seed=seed)
    expect_named(got, ref.init_params(*sizes, np.random.default_rng(seed)), PARAMS, "init_params(...)")


@check("test_forward", points=8, functions=["forward"])
def forward_matches_reference(student, rng):
    params, X, _ = random_problem(rng)
    Y_hat = forward_output(student.forward(params, X))
    expect_close(Y_hat, ref.forward(params, X)[0], "forward(params, X)[0]")


@check("test_forward", points=4, functions=["forward"])
def forward_worked_example(student, rng):
    Y_hat = forward_output(student.forward(WORKED_PARAMS, WORKED_X))
    expect_close(Y_hat, ref.forward(WORKED_PARAMS, WORKED_X)[0], "Y_hat of the worked example of the notes")


@check("test_mse_loss", points=4, functions=["mse_loss"])
def mse_loss_matches_reference(student, rng):
    Y_hat, Y = rng.uniform(size=(6, 3)), rng.uniform(size=(6, 3))
    loss = as_float(student.mse_loss(Y_hat, Y), "mse_loss(Y_hat, Y)")
    expect_close(loss, ref.mse_loss(Y_hat, Y), "mse_loss(Y_hat, Y)")


@check("test_mse_loss", points=2, functions=["mse_loss"])
def mse_loss_worked_example(student, rng):
    Y_hat = ref.forward(WORKED_PARAMS, WORKED_X)[0]
    loss = as_float(student.mse_loss(Y_hat, WORKED_Y), "loss of the worked example")
    expect_close(loss, ref.mse_loss(Y_hat, WORKED_Y), "the loss of the worked example of the notes")


@check("test_backward", points=10, functions=["forward", "backward"])
def backward_matches_reference(student, rng):
    params, X, Y = random_problem(rng)
    got = student.probe(probes.backward_of_own_forward, params=params, X=X, Y=Y)
    expect_named(got, ref.backward(params, ref.forward(params, X)[1], Y), PARAMS, "backward(...)")


@check("test_backward", points=6, functions=["forward", "backward"])
def backward_passes_gradient_check(student, rng):
    params, X, Y = random_problem(rng)
    got = student.probe(probes.backward_of_own_forward, params=params, X=X, Y=Y)
    expect_keys(got, PARAMS, "backward(...)")
    for name in PARAMS:
        expect_gradient(got[name], lambda value: ref.mse_loss(ref.forward({**params, name: value}, X)[0], Y),
                        params[name], name)


@check("test_backward", points=6, functions=["forward", "backward"])
def backward_worked_example(student, rng):
    got = student.probe(probes.backward_of_own_forward, params=WORKED_PARAMS, X=WORKED_X, Y=WORKED_Y)
    expected = ref.backward(WORKED_PARAMS, ref.forward(WORKED_PARAMS, WORKED_X)[1], WORKED_Y)
    expect_named(got, expected, PARAMS, "the gradients of the worked example")


@check("test_numerical_gradient", points=8, functions=["numerical_gradient"])
def numerical_gradient_is_centred(student, rng):
    """On a 3-d array with a large step: the centred difference of sum(x**3 * w) is exactly (3x^2 + eps^2) w, so
    a one-sided difference, or a step other than `eps`, is off by far more than rounding."""
    shape = tuple(int(n) for n in rng.integers(2, 5, size=3))
    x, w, eps = rng.normal(size=shape), rng.normal(size=shape), float(rng.uniform(0.05, 0.2))
    got = student.probe(probes.gradient_of_cubes, x=x, w=w, eps=eps)
    expect_close(got, (3 * x**2 + eps**2) * w, f"numerical_gradient of sum(x**3 * w) on a 3-d x with eps={eps:.3f} "
                 "(centred differences, with the eps it is given)", tol=1e-7)


@check("test_numerical_gradient", points=4, functions=["numerical_gradient"])
def numerical_gradient_perturbs_in_place(student, rng):
    """Judged on values: see the probe."""
    x = rng.normal(size=(2, 5))
    first, second = as_tuple(student.probe(probes.gradient_twice_in_place, x=x), 2, "the probe of numerical_gradient")
    expected = 3 * x**2 + 2 * np.sum(x)
    expect_close(first, expected, "numerical_gradient of f() = sum(x ** 3) + sum(x) ** 2, which reads x "
                 "(perturb one entry of x in place, then restore it)", tol=1e-6)
    expect_close(second, expected, "a second numerical_gradient on the same x (x must be restored)", tol=1e-6)


@check("test_sgd_update", points=8, functions=["sgd_update"])
def sgd_update_matches_reference(student, rng):
    params, _, _ = random_problem(rng)
    grads = {name: rng.normal(size=value.shape) for name, value in params.items()}
    lr = float(rng.uniform(0.01, 1.0))
    expect_named(student.sgd_update(params, grads, lr), ref.sgd_update(params, grads, lr), PARAMS, "sgd_update(...)")


@check("test_train", points=8, functions=["train", "init_params", "forward", "mse_loss", "backward",
                                          "sgd_update"])
def train_matches_reference(student, rng):
    _, X, Y = random_problem(rng)
    n_hidden, seed, epochs = int(rng.integers(2, 6)), draw_seed(rng), 25
    got = as_tuple(student.train(X, Y, n_hidden, 0.5, epochs, seed), 2, "train")
    params, losses = ref.train(X, Y, n_hidden, 0.5, epochs, seed)
    expect_close(got[1], losses, "the losses returned by train (one per epoch, before its update)")
    expect_named(got[0], params, PARAMS, "the params returned by train")


def _xor_mse(student, seed):
    """The mse of the network the student's train fits to XOR from `seed` (its losses drawn for them)."""
    got = as_tuple(student.train(X_XOR, Y_XOR, 4, 2.0, 5000, seed), 2, "train")
    curve("your losses: train(X_xor, Y_xor, 4, 2.0, 5000, seed)", {"loss": got[1]}, "step", "mean squared error",
          pass_line=0.02, log=True)
    expect_keys(got[0], PARAMS, "the params returned by train")
    params = {name: as_array(got[0][name], f"params[{name!r}]") for name in PARAMS}
    try:
        predictions = ref.forward(params, X_XOR)[0]
    except ValueError:
        raise Fail("the params returned by train do not fit a 2-4-1 network") from None
    return ref.mse_loss(predictions, Y_XOR)


@check("test_train", points=12, functions=["train", "init_params", "forward", "mse_loss", "backward",
                                           "sgd_update"])
def train_learns_xor(student, rng):
    seed = draw_seed(rng)
    mse = _xor_mse(student, seed)
    # A seed from which the reference does not learn XOR either proves nothing: the grader tries the next. The
    # reference trains only once the student has missed (it learns from nearly every seed), not for every student.
    while not mse < 0.02 and ref.train(X_XOR, Y_XOR, 4, 2.0, 5000, seed)[1][-1] >= 0.02:
        seed += 1
        mse = _xor_mse(student, seed)
    if not mse < 0.02:
        raise Fail(f"after train(X_xor, Y_xor, 4, 2.0, 5000, seed) the mse is {mse:.3g}, not below 0.02")


CHECKS = (sigmoid_matches_reference, sigmoid_is_stable, sigmoid_grad_matches_reference,
          init_params_shapes_and_zero_biases, init_params_draws_like_the_contract,
          forward_matches_reference, forward_worked_example, mse_loss_matches_reference, mse_loss_worked_example,
          backward_matches_reference, backward_passes_gradient_check, backward_worked_example,
          numerical_gradient_is_centred, numerical_gradient_perturbs_in_place, sgd_update_matches_reference,
          train_matches_reference, train_learns_xor)
