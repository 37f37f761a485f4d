"""Hidden checks of the `softmax` assignment: every verdict is reached here, against the reference."""
import functools
import importlib.util
from pathlib import Path

import numpy as np

from autograder.checks import (Fail, as_array, as_float, as_int_array, as_tuple, check, curve, draw_seed, expect_close,
                               expect_gradient, expect_layers, expect_model, expect_named, expect_near_reference,
                               expect_outputs, expect_stable)
from reference import softmax as ref
from reference import softmax_probes as probes

LOSS = ["softmax_loss_and_grad", "cross_entropy", "cross_entropy_grad", "log_softmax", "softmax"]
TRAIN = ["train_softmax_classifier", *LOSS]
DIGITS_SETTINGS = (1.0, 300, 1e-3)  # lr, epochs, reg: the settings the notebook trains with
ACCURACY_MARGIN = 0.02  # below the reference's own test accuracy with the same data, settings and seed


def random_logits(rng):
    """Logits of one to three random dimensions: softmax works along the last axis of any shape."""
    return rng.normal(0, 5, size=tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 4)))))


def random_batch(rng, scale=3.0):
    """Logits and labels of a random size."""
    n, c = (int(v) for v in rng.integers(2, 9, size=2))
    return rng.normal(0, scale, size=(n, c)), rng.integers(0, c, size=n)


def random_problem(rng):
    """A random linear classifier, data and regularisation strength."""
    logits, y = random_batch(rng)
    n, c = logits.shape
    d = int(rng.integers(2, 7))
    return rng.normal(size=(d, c)), rng.normal(size=c), rng.normal(size=(n, d)), y, float(rng.uniform(0, 0.5))


def loss_grads(student, W, b, X, y, reg):
    """The student's (loss, dW, db), checked for shape."""
    got = as_tuple(student.softmax_loss_and_grad(W, b, X, y, reg), 3, "softmax_loss_and_grad")
    return (as_float(got[0], "the loss of softmax_loss_and_grad"),
            as_array(got[1], "dW", W.shape), as_array(got[2], "db", b.shape))


def trained(student, X, y, n_classes, lr, epochs, reg, seed):
    """The student's (W, b) from train_softmax_classifier, shaped for these data."""
    got = as_tuple(student.train_softmax_classifier(X, y, n_classes, lr, epochs, reg, seed), 3,
                   "train_softmax_classifier")
    return as_array(got[0], "W", (X.shape[1], n_classes)), as_array(got[1], "b", (n_classes,)), got[2]


@functools.cache
def digits():
    """scikit-learn's 8x8 digits scaled to [0, 1], read from the file its wheel ships as `load_digits` reads it:
    importing scikit-learn would cost every start of the grader 0.8 s of CPU."""
    package = importlib.util.find_spec("sklearn").submodule_search_locations[0]
    data = np.loadtxt(Path(package, "datasets", "data", "digits.csv.gz"), delimiter=",")
    return data[:, :-1] / 16.0, data[:, -1].astype(int)


def digits_split(rng):
    """A train/test split of the digits drawn from the grader's seed; the test part never leaves the grader."""
    X, y = digits()
    order = rng.permutation(len(X))
    cut = int(0.75 * len(X))
    return X[order[:cut]], y[order[:cut]], X[order[cut:]], y[order[cut:]]


@check("test_softmax", points=6, functions=["softmax"])
def softmax_matches_reference(student, rng):
    z = random_logits(rng)
    expect_close(student.softmax(z), ref.softmax(z), "softmax(z)")


@check("test_softmax", points=6, functions=["softmax"])
def softmax_is_stable(student, rng):
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4 - 1.0, 5.0]]) * rng.choice([1, -1])
    expect_stable(student, "softmax", z, ref.softmax(z), "for logits up to 1e4", "subtract the maximum")


@check("test_log_softmax", points=5, functions=["log_softmax"])
def log_softmax_matches_reference(student, rng):
    z = random_logits(rng)
    expect_close(student.log_softmax(z), ref.log_softmax(z), "log_softmax(z)")


@check("test_log_softmax", points=5, functions=["log_softmax"])
def log_softmax_is_stable(student, rng):
    z = np.array([[0.0, -1000.0, -1e4], [1e4, 0.0, 3.0]]) + rng.normal(size=(2, 3))
    expect_stable(student, "log_softmax", z, ref.log_softmax(z), "where softmax underflows to 0", "use log-sum-exp")


@check("test_cross_entropy", points=6, functions=["cross_entropy", "log_softmax"])
def cross_entropy_matches_reference(student, rng):
    logits, labels = random_batch(rng)
    loss = as_float(student.cross_entropy(logits, labels), "cross_entropy(logits, labels)")
    expect_close(loss, ref.cross_entropy(logits, labels), "cross_entropy(logits, labels)")


@check("test_cross_entropy", points=4, functions=["cross_entropy", "log_softmax"])
def cross_entropy_agrees_with_keras(student, rng):
    """What keras.losses.SparseCategoricalCrossentropy(from_logits=True) computes on float32 logits. The reference
    computes it here (tests/test_softmax.py holds it to Keras's value), so a grading worker never loads TensorFlow."""
    logits, labels = random_batch(rng)
    logits = logits.astype(np.float32).astype(np.float64)  # Keras computes in float32 on the same values
    loss = as_float(student.cross_entropy(logits, labels), "cross_entropy(logits, labels)")
    expect_close(loss, ref.cross_entropy(logits, labels),
                 "cross_entropy against keras.losses.SparseCategoricalCrossentropy(from_logits=True)", tol=1e-5)


@check("test_cross_entropy", points=4, functions=["cross_entropy", "log_softmax"])
def cross_entropy_is_log_c_at_equal_logits(student, rng):
    logits, labels = random_batch(rng)
    logits = np.full_like(logits, rng.normal(0, 100))
    loss = as_float(student.cross_entropy(logits, labels), "cross_entropy at equal logits")
    expect_close(loss, np.log(logits.shape[1]), "cross_entropy with all logits equal (should be log C)")


@check("test_cross_entropy_grad", points=6, functions=["cross_entropy_grad", "softmax"])
def cross_entropy_grad_matches_reference(student, rng):
    logits, labels = random_batch(rng)
    expect_close(student.cross_entropy_grad(logits, labels), ref.cross_entropy_grad(logits, labels),
                 "cross_entropy_grad(logits, labels)")


@check("test_cross_entropy_grad", points=6, functions=["cross_entropy_grad", "softmax"])
def cross_entropy_grad_passes_gradient_check(student, rng):
    logits, labels = random_batch(rng, scale=1.0)
    expect_gradient(student.cross_entropy_grad(logits, labels),
                    lambda value: ref.cross_entropy(value, labels), logits, "cross_entropy_grad")


@check("test_softmax_loss_and_grad", points=8, functions=LOSS)
def softmax_loss_and_grad_matches_reference(student, rng):
    W, b, X, y, reg = random_problem(rng)
    expect_named(loss_grads(student, W, b, X, y, reg), ref.softmax_loss_and_grad(W, b, X, y, reg),
                 ("the loss", "dW", "db"), "softmax_loss_and_grad")


@check("test_softmax_loss_and_grad", points=4, functions=LOSS)
def softmax_loss_and_grad_passes_gradient_check(student, rng):
    W, b, X, y, reg = random_problem(rng)
    _, dW, db = loss_grads(student, W, b, X, y, reg)
    expect_gradient(dW, lambda value: ref.softmax_loss_and_grad(value, b, X, y, reg)[0], W, "dW")
    expect_gradient(db, lambda value: ref.softmax_loss_and_grad(W, value, X, y, reg)[0], b, "db")


@check("test_softmax_loss_and_grad", points=4, functions=LOSS)
def softmax_loss_is_log_c_at_zero_weights(student, rng):
    W, b, X, y, reg = random_problem(rng)
    loss, _, _ = loss_grads(student, np.zeros_like(W), np.zeros_like(b), X, y, reg)
    expect_close(loss, np.log(W.shape[1]), "the loss at zero weights (should be log C)")


@check("test_predict", points=6, functions=["predict"])
def predict_matches_reference(student, rng):
    W, b, X, _, _ = random_problem(rng)
    got = as_int_array(student.predict(W, b, X), "predict(W, b, X)", (len(X),))
    if not np.array_equal(got, ref.predict(W, b, X)):
        raise Fail("predict(W, b, X) is not the index of the largest logit of each row")


@check("test_train_softmax_classifier", points=8, functions=TRAIN)
def train_matches_reference(student, rng):
    W, b, X, y, reg = random_problem(rng)
    seed, epochs = draw_seed(rng), 15
    W_got, b_got, losses = trained(student, X, y, W.shape[1], 0.5, epochs, reg, seed)
    W_ref, b_ref, losses_ref = ref.train_softmax_classifier(X, y, W.shape[1], 0.5, epochs, reg, seed)
    expect_close(losses, losses_ref, "the losses returned by train_softmax_classifier (one per epoch, "
                 "before its update)")
    expect_close(W_got, W_ref, "the W returned by train_softmax_classifier")
    expect_close(b_got, b_ref, "the b returned by train_softmax_classifier")


@check("test_train_softmax_classifier", points=4, functions=TRAIN)
def train_overfits_a_tiny_subset(student, rng):
    X, y = digits()
    while True:  # the grader picks 20 digits that the reference fits perfectly
        subset = rng.choice(len(X), size=20, replace=False)
        W, b, _ = ref.train_softmax_classifier(X[subset], y[subset], 10, 1.0, 300, 0.0, 0)
        if np.array_equal(ref.predict(W, b, X[subset]), y[subset]):
            break
    W, b, _ = trained(student, X[subset], y[subset], 10, 1.0, 300, 0.0, 0)
    accuracy = np.mean(ref.predict(W, b, X[subset]) == y[subset])
    if accuracy < 1.0:
        raise Fail(f"trained on 20 digits with reg=0 for 300 epochs, it gets only {accuracy:.0%} of them right")


@check("test_train_softmax_classifier", points=8, functions=TRAIN)
def train_reaches_reference_accuracy_on_digits(student, rng):
    X_train, y_train, X_test, y_test = digits_split(rng)
    seed = draw_seed(rng)
    W, b, _ = ref.train_softmax_classifier(X_train, y_train, 10, *DIGITS_SETTINGS, seed)
    reference = np.mean(ref.predict(W, b, X_test) == y_test)
    W, b, losses = trained(student, X_train, y_train, 10, *DIGITS_SETTINGS, seed)
    curve(f"your losses on the digits (lr, epochs, reg = {DIGITS_SETTINGS})", {"loss": losses}, "epoch",
          "cross-entropy")
    expect_near_reference(np.mean(ref.predict(W, b, X_test) == y_test), reference, ACCURACY_MARGIN,
                          f"the test accuracy on held-out digits (lr, epochs, reg = {DIGITS_SETTINGS})")


@check("test_build_keras_classifier", points=4, functions=["build_keras_classifier"])
def keras_classifier_structure(student, rng):
    n_features, n_classes = (int(v) for v in rng.integers(2, 12, size=2))
    got = student.probe(probes.keras_classifier, n_features=n_features, n_classes=n_classes)
    layers = expect_model(got, "build_keras_classifier", params=(n_features + 1) * n_classes,
                          shapes=[(3, n_classes)])
    expect_layers(layers, {"Dense": [(n_classes, n_features)]}, "build_keras_classifier", only=True)


@check("test_build_keras_classifier", points=6, functions=["build_keras_classifier"])
def keras_classifier_outputs_logits(student, rng):
    n_features, n_classes = (int(v) for v in rng.integers(2, 12, size=2))
    W = rng.normal(size=(n_features, n_classes)).astype(np.float32)
    b = rng.normal(size=n_classes).astype(np.float32)
    X = rng.normal(size=(5, n_features)).astype(np.float32)
    got = student.probe(probes.keras_classifier_logits, n_features=n_features, n_classes=n_classes, W=W, b=b, X=X)
    expect_outputs(got, X.astype(np.float64) @ W + b, "the model's outputs with weights W, b (should be the "
                   "logits X @ W + b)")


CHECKS = (softmax_matches_reference, softmax_is_stable, log_softmax_matches_reference, log_softmax_is_stable,
          cross_entropy_matches_reference, cross_entropy_agrees_with_keras, cross_entropy_is_log_c_at_equal_logits,
          cross_entropy_grad_matches_reference, cross_entropy_grad_passes_gradient_check,
          softmax_loss_and_grad_matches_reference, softmax_loss_and_grad_passes_gradient_check,
          softmax_loss_is_log_c_at_zero_weights, predict_matches_reference, train_matches_reference,
          train_overfits_a_tiny_subset, train_reaches_reference_accuracy_on_digits, keras_classifier_structure,
          keras_classifier_outputs_logits)
