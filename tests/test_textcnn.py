"""The `textcnn` assignment: its reference, its generated data, and its samples graded through the real CLI."""

import keras
import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from autograder import course, samples
from conftest import ROOT, grade_samples, lost
from sample_contract import SampleContract
from reference import textcnn as ref
from reference import textcnn_checks, textcnn_samples

USES_KERAS = {"build_vocab": "def build_vocab(texts, max_size=None, min_count=1):\n"
                             "    layer = keras.layers.TextVectorization(max_tokens=max_size)\n"
                             "    layer.adapt(texts)\n"
                             "    return {word: i for i, word in enumerate(layer.get_vocabulary())}\n"}
TWO_CLAUSES = {"but", "and", "while", "yet", "although"}


def test_reference_text_functions_follow_the_contract():
    assert ref.tokenize("Not bad... it's 10/10!") == ["not", "bad", ".", ".", ".", "it's", "10", "/", "10", "!"]
    vocab = ref.build_vocab(["b a c", "c b", "c"], max_size=4)
    assert vocab == {"<pad>": 0, "<unk>": 1, "c": 2, "b": 3}
    assert ref.encode(["c x b a", ""], vocab, 3).tolist() == [[2, 1, 3], [0, 0, 0]]


def test_judge_forward_pass_is_keras_forward_pass():
    rng = np.random.default_rng(0)
    sizes = textcnn_checks.model_sizes(rng)
    weights = textcnn_checks.textcnn_weights(rng, sizes)
    model = ref.build_textcnn(**sizes)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    model.layers[1].set_weights([weights["table"]])
    for conv, kernel, bias in zip(convs, weights["kernels"], weights["biases"]):
        conv.set_weights([kernel, bias])
    model.layers[-1].set_weights([weights["W"], weights["b"]])
    ids = rng.integers(0, sizes["vocab_size"], size=(4, sizes["max_len"]))
    expected = textcnn_checks.textcnn_forward(ids, weights, range(len(convs)))
    assert np.allclose(keras.ops.convert_to_numpy(model(ids)), expected, atol=1e-5)


def test_word_order_decides_two_clause_reviews():
    """A bag of words is at chance on reviews that praise one thing and criticise another."""
    texts, labels = textcnn_checks.data.make_reviews(6000, seed=1)
    two = np.array([bool(TWO_CLAUSES & set(ref.tokenize(text))) for text in texts])
    bag = CountVectorizer(tokenizer=ref.tokenize, token_pattern=None, ngram_range=(1, 1))
    classifier = LogisticRegression(max_iter=1000).fit(bag.fit_transform(texts[:4000]), labels[:4000])
    right = classifier.predict(bag.transform(texts[4000:])) == labels[4000:]
    assert 0.5 < two.mean() < 0.7 and abs(labels.mean() - 0.5) < 0.03
    assert right[two[4000:]].mean() < 0.56


def test_reference_accuracy_is_what_the_threshold_comes_from_and_width_one_falls_short():
    vocab, (X, X_val, X_test), (y, y_val, y_test) = textcnn_checks.hidden_reviews(np.random.default_rng(3))
    accuracy = {}
    for sizes in [(3, 4, 5), (1,)]:
        keras.utils.set_random_seed(0)
        settings = {**textcnn_checks.MODEL_SETTINGS, "filter_sizes": sizes}
        model = ref.build_textcnn(len(vocab), textcnn_checks.MAX_LEN, **settings)
        ref.train_textcnn(model, X, y, X_val, y_val, textcnn_checks.EPOCHS, textcnn_checks.BATCH_SIZE, 0)
        accuracy[sizes] = np.mean(np.argmax(model.predict(X_test, verbose=0), axis=1) == y_test)
    threshold = textcnn_checks.REFERENCE_ACCURACY - textcnn_checks.ACCURACY_MARGIN
    assert accuracy[(3, 4, 5)] >= textcnn_checks.REFERENCE_ACCURACY
    assert accuracy[(1,)] < threshold - 0.2, accuracy


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return grade_samples("textcnn", tmp_path_factory.mktemp("textcnn"), TestSamples.extra, TestSamples.options)


class TestSamples(SampleContract):
    assignment_id = "textcnn"
    figures = {"curve": 1, "pass_line": 1}
    bugs = textcnn_samples.BUGS
    extra = {"uses_keras": USES_KERAS,
             "slow": samples.edited(course.load(ROOT, "textcnn").reference_sources, *textcnn_samples.SLOW_TRAINING)}
    # limits shortened on the command line, as an instructor may, so that the slow training stops sooner
    options = ("--cell-timeout", "25", "--notebook-timeout", "50")


def test_average_pooling_fails_the_forward_pass(results):
    assert "textcnn_max_over_time_forward_pass" in [c["name"] for c in lost(results["textcnn_average_pooling"])]


def test_keras_in_a_text_function_is_a_policy_breach(results):
    result = results["uses_keras"]
    assert result["status"] == "policy" and "build_vocab uses keras" in result["message"]
    assert {c["name"] for c in lost(result)} == {"build_vocab_matches_reference",
                                                 "build_vocab_respects_max_size_and_min_count"}


def test_training_past_the_time_limit_is_a_timeout_that_keeps_finished_checks(results):
    """The slow check stops, not the grader, and the checks that finished keep their points."""
    assignment, result = course.load(ROOT, "textcnn"), results["slow"]
    assert result["status"] == "timeout" and "hit the timeout limit" in result["message"]
    assert lost(result)[0]["message"].startswith("timeout: ran past")
    assert all("train_textcnn" in c["functions"] for c in lost(result)), lost(result)
    assert result["score"] == 100 - sum(c.points for c in assignment.checks if "train_textcnn" in c.functions)
