"""The vocabulary of the checks files: each helper fails exactly when the student's output is wrong."""
import numpy as np
import pytest

from autograder import checks


def test_numerical_gradient_is_centred_and_leaves_its_input_alone():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = x.copy()
    grad = checks.numerical_gradient(lambda value: float(np.sum(np.sin(value) * 3.0)), x)
    assert np.allclose(grad, 3.0 * np.cos(x), atol=1e-9) and np.array_equal(x, before)


def test_a_wrong_token_list_is_named_by_the_students_first_wrong_token_not_the_graders_text():
    checks.expect_tokens(["a", "b"], ["a", "b"], "tokenize(text)")
    with pytest.raises(checks.Fail, match=r"returned 3 tokens; they first go wrong at token 1 \('x'\)$") as failure:
        checks.expect_tokens(["a", "x", "c"], ["a", "secret", "c"], "tokenize(text)")
    assert "secret" not in str(failure.value)


def test_a_correct_sampler_passes_the_distribution_test_and_a_slightly_biased_one_fails():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(12))
    for _ in range(200):  # independent draws, as a correct sampler makes: the test fails them 1e-6 of the time
        checks.expect_distribution(rng.choice(12, size=24_000, p=p), p, "sample")
    biased = p.copy()
    biased[np.argmax(p)] *= 0.9  # 10% too rare: well within the total variation old checks allowed
    with pytest.raises(checks.Fail, match="do not follow the distribution"):
        checks.expect_distribution(rng.choice(12, size=24_000, p=biased / biased.sum()), p, "sample")
    with pytest.raises(checks.Fail, match="has probability 0"):
        checks.expect_distribution(np.array([0, 1]), np.array([1.0, 0.0]), "sample")


def test_a_correct_sampler_of_a_peaked_distribution_passes_the_distribution_test():
    """rnn_textgen's question: 3000 draws at temperature 0.5, where some ids are expected far less than once. One
    draw of such an id used to add dozens to the chi-square: 7 correct samplers of 2000 failed."""
    rng = np.random.default_rng(1)
    for _ in range(2000):
        logits = rng.normal(0, 1.5, size=8) / 0.5
        p = np.exp(logits - logits.max())
        p /= p.sum()
        checks.expect_distribution(rng.choice(8, size=3000, p=p), p, "sample")
    p = np.array([0.5, 0.4, 0.099, 0.001])
    rare_too_often = np.repeat([0, 1, 2, 3], [1400, 1200, 300, 100])  # the 0.1% id drawn 100 times in 3000
    with pytest.raises(checks.Fail, match="do not follow the distribution"):
        checks.expect_distribution(rare_too_often, p, "sample")


def test_named_outputs_are_compared_by_name_in_dicts_and_by_position_in_tuples():
    expected = {"W": np.ones(2), "b": np.zeros(1)}
    checks.expect_named({"W": np.ones(2), "b": np.zeros(1)}, expected, ("W", "b"), "sgd_update(...)")
    with pytest.raises(checks.Fail, match=r"^b of sgd_update\(\.\.\.\): relative error"):
        checks.expect_named({"W": np.ones(2), "b": np.ones(1)}, expected, ("W", "b"), "sgd_update(...)")
    with pytest.raises(checks.Fail, match="should be a dict with keys"):
        checks.expect_named({"W": np.ones(2)}, expected, ("W", "b"), "sgd_update(...)")
    with pytest.raises(checks.Fail, match="should return a tuple of 2"):
        checks.expect_named([1.0, 2.0], (1.0, 2.0), ("loss", "grad"), "f")


def test_a_gradient_check_can_take_the_students_own_loss_in_one_batch():
    x = np.array([0.5, -1.0, 2.0])
    calls = []

    def losses(points):  # a loss computed elsewhere (the kernel), all points at once
        calls.append(len(points))
        return [float(np.sum(point ** 2)) for point in points]
    checks.expect_gradient(2 * x, losses, x, "grad", batched=True)
    assert calls == [2 * x.size]
    with pytest.raises(checks.Fail, match="centred differences of your own loss"):
        checks.expect_gradient(x, losses, x, "grad", batched=True)


def test_a_metric_is_judged_against_the_references_own_run_in_either_direction():
    checks.expect_near_reference(0.96, 1.0, 0.05, "accuracy")
    with pytest.raises(checks.Fail, match="needs at least 0.95"):
        checks.expect_near_reference(0.9, 1.0, 0.05, "accuracy")
    checks.expect_near_reference(1.0, 0.6, 0.5, "bits", higher_is_better=False)
    with pytest.raises(checks.Fail, match="needs at most 1.1"):
        checks.expect_near_reference(1.2, 0.6, 0.5, "bits", higher_is_better=False)


def test_a_model_description_is_read_into_layers_and_judged():
    described = {"model": True, "compiled": False, "params": 44, "shapes": [[3, 4]],
                 "layers": [["InputLayer", None], ["Dense", [4, 10]]]}
    layers = checks.expect_model(described, "build", params=44, shapes=[(3, 4)])
    checks.expect_layers(layers, {"Dense": [(4, 10)]}, "build", only=True)
    with pytest.raises(checks.Fail, match="uncompiled"):
        checks.expect_model({**described, "compiled": True}, "build")
    with pytest.raises(checks.Fail, match="has 44 parameters, expected 45"):
        checks.expect_model(described, "build", params=45)
    with pytest.raises(checks.Fail, match="only Dense layers"):
        checks.expect_layers({**layers, "Softmax": [None]}, {"Dense": [(4, 10)]}, "build", only=True)
    # a subclassed model's Dropout has no single input, so its width is unknown: not held against it
    two = {"Embedding": [(50, 8), (50, 8)], "Dropout": [(0.5, None)]}
    checks.expect_layers(two, {"Embedding": [(50, 8)] * 2, "Dropout": [(0.5, 12)]}, "build")
    with pytest.raises(checks.Fail, match="expected Embedding layers"):
        checks.expect_layers(two, {"Embedding": [(50, 8)] * 3}, "build")
    with pytest.raises(checks.Fail, match="expected Dropout layers"):
        checks.expect_layers(two, {"Dropout": [(0.25, 12)]}, "build")


def test_integer_outputs_are_told_apart_from_floats_and_booleans():
    assert checks.as_int_array(np.array([1, 2]), "predict").tolist() == [1, 2]
    with pytest.raises(checks.Fail, match="should be an integer array, got a ndarray of float64"):
        checks.as_int_array(np.array([1.0, 2.0]), "predict")
    assert checks.as_ids([3, 0], "ids", 4).tolist() == [3, 0]
    with pytest.raises(checks.Fail, match="not booleans"):
        checks.as_ids([True, 0], "ids", 4)
    with pytest.raises(checks.Fail, match="outside 0..3"):
        checks.as_ids([4], "ids", 4)
