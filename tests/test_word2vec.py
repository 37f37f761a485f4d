"""The `word2vec` assignment: its reference, its hidden checks, its data, and its samples graded through the CLI."""
import hashlib
import importlib.util
import io
import warnings
import zipfile

import keras
import numpy as np
import pytest

from autograder import course, policy, samples
from autograder.checks import numerical_gradient, rel_error
from conftest import ROOT, grade_samples, lost
from reference_student import ReferenceStudent
from sample_contract import SampleContract
from reference import word2vec as ref
from reference import word2vec_checks as checks
from reference import word2vec_samples

NUMPY_FUNCTIONS = ["tokenize", "build_vocab", "noise_distribution", "skipgram_pairs", "cbow_examples",
                   "naive_softmax_loss_and_grad", "neg_sampling_loss_and_grad", "sample_negatives", "most_similar"]


@pytest.fixture(scope="module")
def word2vec():
    return course.load(ROOT, "word2vec")


@pytest.fixture(scope="module")
def data_module():
    """assignments/word2vec/word2vec_data.py, the loader the notebook imports."""
    spec = importlib.util.spec_from_file_location("word2vec_data", ROOT / "assignments/word2vec/word2vec_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- the reference on its own

def test_tokenize_and_build_vocab_follow_the_contract():
    assert ref.tokenize("Don't STOP: e-mail O'Brien at 4pm, naïve!") == ["don't", "stop", "e", "mail", "o'brien",
                                                                          "at", "pm", "na", "ve"]
    word_to_id, counts = ref.build_vocab(["y", "x", "z", "x", "y", "w"])
    assert word_to_id == {"y": 0, "x": 1, "z": 2, "w": 3} and counts.tolist() == [2, 2, 1, 1]
    assert counts.dtype.kind == "i"
    assert ref.build_vocab(["y", "x", "z", "x", "y", "w"], min_count=2)[0] == {"y": 0, "x": 1}


@pytest.mark.parametrize("seed", range(5))
def test_training_examples_match_a_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    ids, window = rng.integers(0, 9, size=int(rng.integers(1, 15))), int(rng.integers(1, 5))
    expected = sorted((int(ids[i]), int(ids[j])) for i in range(len(ids)) for j in range(len(ids))
                      if 0 < abs(i - j) <= window)
    pairs = ref.skipgram_pairs(ids, window)
    assert pairs.shape == (len(expected), 2) and pairs.dtype.kind == "i"
    assert sorted(map(tuple, pairs.tolist())) == expected
    contexts, targets = ref.cbow_examples(ids, window)
    centres = range(window, len(ids) - window)
    assert targets.tolist() == [int(ids[i]) for i in centres]
    assert contexts.shape == (len(targets), 2 * window)
    assert contexts.tolist() == [[int(ids[i + k]) for k in range(-window, window + 1) if k] for i in centres]


def expect_gradients_match_centred_differences(function, args):
    """The gradients of `function` w.r.t. center_vec (argument 0) and outside_vectors (argument 2)."""
    _, grad_center, grad_outside = function(*args)
    for position, grad in ((0, grad_center), (2, grad_outside)):
        numeric = numerical_gradient(
            lambda value: function(*args[:position], value, *args[position + 1:])[0], args[position])
        assert rel_error(grad, numeric) < 1e-8


@pytest.mark.parametrize("seed", range(3))
def test_both_losses_match_their_formulas_and_centred_differences(seed):
    rng = np.random.default_rng(seed)
    v, o, U, negatives = rng.normal(size=4), 2, rng.normal(size=(7, 4)), np.array([5, 1, 5, 6])
    scores = U @ v
    assert ref.naive_softmax_loss_and_grad(v, o, U)[0] == pytest.approx(
        np.log(np.exp(scores).sum()) - scores[o], rel=1e-12)
    expect_gradients_match_centred_differences(ref.naive_softmax_loss_and_grad, (v, o, U))

    sigmoid = 1.0 / (1.0 + np.exp(-scores))
    loss, _, grad_U = ref.neg_sampling_loss_and_grad(v, o, U, negatives)
    assert loss == pytest.approx(-np.log(sigmoid[o]) - sum(np.log(1.0 - sigmoid[k]) for k in negatives), rel=1e-12)
    assert np.allclose(grad_U[5], 2 * sigmoid[5] * v) and np.allclose(grad_U[[0, 3, 4]], 0.0)
    expect_gradients_match_centred_differences(ref.neg_sampling_loss_and_grad, (v, o, U, negatives))


def test_losses_are_stable_for_huge_scores():
    v, U = np.array([1e4, -1e4]), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        naive = ref.naive_softmax_loss_and_grad(v, 1, U)
        negative = ref.neg_sampling_loss_and_grad(v, 1, U, [0, 2])
    assert naive[0] == pytest.approx(2e4) and negative[0] == pytest.approx(2e4 + np.log(2))
    assert all(np.all(np.isfinite(part)) for part in (*naive[1:], *negative[1:]))


def test_sample_negatives_never_draws_exclude_and_follows_the_renormalised_noise():
    noise = ref.noise_distribution(np.array([900, 90, 10, 1]))
    draws = ref.sample_negatives(noise, 50_000, 0, np.random.default_rng(0))
    assert draws.shape == (50_000,) and 0 not in draws
    assert np.allclose(np.bincount(draws, minlength=4)[1:] / 50_000, noise[1:] / noise[1:].sum(), atol=0.01)


def test_the_keras_model_scores_each_candidate_by_a_dot_product():
    model = ref.build_skipgram_model(11, 3, 2)
    tables = {layer.name: layer.get_weights()[0] for layer in model.layers if isinstance(layer, keras.layers.Embedding)}
    assert sorted(tables) == ["context_embedding", "target_embedding"] and model.count_params() == 2 * 11 * 3
    target, context = np.array([0, 4, 10]), np.array([[1, 2, 3], [4, 4, 0], [10, 9, 8]])
    logits = keras.ops.convert_to_numpy(model([target, context]))
    expected = np.einsum("bd,bcd->bc", tables["target_embedding"][target], tables["context_embedding"][context])
    assert np.allclose(logits, expected, atol=1e-6)


def test_most_similar_ranks_by_cosine_without_the_query():
    embeddings = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 2.0], [-1.0, 0.0]])
    got = ref.most_similar(embeddings, {"a": 0, "b": 1, "c": 2, "d": 3}, "a", topn=10)
    assert [w for w, _ in got] == ["b", "c", "d"] and all(type(c) is float for _, c in got)
    assert [c for _, c in got] == pytest.approx([10 / np.hypot(10, 1), 0.0, -1.0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_reference_recovers_planted_groups_well_above_the_threshold(seed):
    rng = np.random.default_rng(seed)
    tokens, member_words = checks.planted_corpus(rng)
    embeddings, word_to_id = ref.train_word2vec(tokens, seed=int(rng.integers(2**31)), **checks.TRAIN_SETTINGS)
    assert embeddings.shape == (len(set(tokens)), checks.TRAIN_SETTINGS["embed_dim"])
    assert checks.planted_precision(embeddings, word_to_id, member_words) == 1.0 > checks.PLANTED_PRECISION + 0.15


@pytest.mark.parametrize("seed", [0, 1])
def test_the_reference_keeps_lonely_words_apart_well_below_the_noise_threshold(seed):
    rng = np.random.default_rng(seed)
    tokens, lonely_words, hub = checks.hub_corpus(rng)
    embeddings, word_to_id = ref.train_word2vec(tokens, seed=int(rng.integers(2**31)), **checks.TRAIN_SETTINGS)
    assert checks.lonely_similarity(embeddings, word_to_id, lonely_words, hub) < checks.LONELY_SIMILARITY - 0.04


def test_training_is_reproducible_from_its_seed():
    tokens, _ = checks.planted_corpus(np.random.default_rng(5), sentences=150)
    first, ids = ref.train_word2vec(tokens, 8, 2, 3, 2, 123)
    again, same_ids = ref.train_word2vec(tokens, 8, 2, 3, 2, 123)
    assert same_ids == ids and np.array_equal(first, again)
    assert not np.array_equal(first, ref.train_word2vec(tokens, 8, 2, 3, 2, 124)[0])


# ---------------------------------------------------------------- the hidden checks, run against the reference

@pytest.mark.parametrize("seed", range(8))
def test_the_reference_passes_every_fast_check_for_any_grader_seed(word2vec, seed):
    student = ReferenceStudent(ref)
    for item in word2vec.checks:
        if "train_word2vec" not in item.functions:  # the trainings: their own tests above
            item.run(student, np.random.default_rng([seed, len(item.name)]))


# ---------------------------------------------------------------- the notebook, its data and its policy

def test_the_notebook_grades_the_contract_functions_for_100_points(word2vec):
    assert word2vec.functions == ["tokenize", "build_vocab", "skipgram_pairs", "cbow_examples",
                                  "naive_softmax_loss_and_grad", "neg_sampling_loss_and_grad", "noise_distribution",
                                  "sample_negatives", "build_skipgram_model", "train_word2vec", "most_similar"]
    assert sum(item.points for item in word2vec.checks) == 100
    assert sorted(word2vec.settings["numpy_only"]) == sorted(NUMPY_FUNCTIONS)


@pytest.mark.parametrize("function, code", [
    ("neg_sampling_loss_and_grad", "from scipy.special import expit"),
    ("most_similar", "import keras"),
    ("tokenize", "import gensim"),
])
def test_forbidden_modules_are_caught_in_the_numpy_functions(word2vec, function, code):
    edits = {function: f"{code}\n{word2vec.reference_sources[function]}"}
    violations = policy.scan(samples.submission(word2vec, edits), word2vec.rules)
    assert list(violations) == [function]


def test_keras_is_allowed_where_the_assignment_uses_it(word2vec):
    assert policy.scan(samples.submission(word2vec, {}), word2vec.rules) == {}


def test_the_offline_corpus_and_wordsim_come_from_gensims_wheel(data_module):
    tokens = ref.tokenize(data_module.load_lee_corpus())
    assert len(tokens) > 50_000 and tokens[:3] == ["hundreds", "of", "people"]
    pairs = data_module.load_wordsim353()
    assert len(pairs) == 353 and ("tiger", "cat", 7.35) in pairs


def fake_text8(text):
    """The bytes of a zip holding `text` as its member `text8`, like the real text8.zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("text8", text)
    return buffer.getvalue()


def serve(monkeypatch, data_module, payload):
    """Answer every download with `payload`; return the list of URLs fetched."""
    fetched = []

    def urlopen(url, timeout):
        fetched.append(url)
        return io.BytesIO(payload)
    monkeypatch.setattr(data_module.urllib.request, "urlopen", urlopen)
    return fetched


def test_text8_comes_from_the_cache_when_its_checksum_matches(data_module, tmp_path, monkeypatch):
    (tmp_path / "text8.zip").write_bytes(fake_text8(" anarchism originated as a term"))
    fetched = serve(monkeypatch, data_module, b"")
    sha256 = data_module.sha256_of(tmp_path / "text8.zip")
    assert data_module.load_text8(max_chars=10, cache_dir=tmp_path, sha256=sha256) == " anarchism"
    assert fetched == []


def test_text8_is_downloaded_again_over_a_corrupted_cache(data_module, tmp_path, monkeypatch):
    payload = fake_text8(" the text")
    (tmp_path / "text8.zip").write_bytes(b"truncated")
    fetched = serve(monkeypatch, data_module, payload)
    assert data_module.load_text8(cache_dir=tmp_path, sha256=hashlib.sha256(payload).hexdigest()) == " the text"
    assert fetched == [data_module.TEXT8_URL] and (tmp_path / "text8.zip").read_bytes() == payload


def test_text8_with_another_checksum_is_refused_and_not_kept(data_module, tmp_path, monkeypatch):
    serve(monkeypatch, data_module, fake_text8(" not the real text8"))
    with pytest.raises(ValueError, match="not the pinned"):
        data_module.load_text8(cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the samples, graded through the real CLI

@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return grade_samples("word2vec", tmp_path_factory.mktemp("word2vec"))


class TestSamples(SampleContract):
    assignment_id = "word2vec"
    figures = {"table": 1, "pass_line": 1}
    bugs = word2vec_samples.BUGS


def test_a_trainer_with_uniform_negatives_loses_the_noise_check_and_only_it(results):
    """Negatives drawn uniformly (the true context still redrawn): it still recovers the planted groups."""
    assert [c["name"] for c in lost(results["uniform_negatives"])] == ["train_word2vec_draws_negatives_from_the_noise"]
