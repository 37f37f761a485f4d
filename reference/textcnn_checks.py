"""Hidden checks of the `textcnn` assignment: every verdict is reached here, against the reference.

The student's kernel only computes: it builds and trains models on inputs drawn here and returns
raw outputs. The labels of the held-out reviews never leave this process.
"""
import importlib.util
import itertools
import math
from pathlib import Path

import numpy as np

from autograder.checks import (Fail, as_array, as_int_array, as_tuple, as_vocab, check, curve, draw_seed, expect_layers,
                               expect_model, expect_near_reference, expect_outputs, expect_tokens)
from reference import textcnn as ref
from reference import textcnn_probes as probes

TEXT_PIECES = ["The", "movie's", "DON'T", "9/10", "rock'n'roll", "e-mail", "U.S.A.", "...", "naïve", "café",
               "tab\there", "new\nline", "--", ":-)", "$5", "it's", "3.14", "(great)", '"quoted"', "Wow!!!",
               "x2y", "O'Brien", "isn't", "50%", "well,", "end."]
WORDS = ["plot", "cast", "not", "good", "bad", "very", "the", "film", "a", "is", "dull", "fun", "never", "ok"]
TEXT_USES = ["build_vocab", "tokenize"]
ENCODE_USES = ["encode", "tokenize"]
PREDICT_USES = ["predict_sentiment", "encode", "tokenize"]
ACCURACY_USES = ["build_textcnn", "train_textcnn"]

# The held-out accuracy check: reviews drawn like the notebook's (textcnn_data.make_reviews) from the
# grader's seed, encoded here by the reference, and the settings the budget allows.
SPLITS = (3000, 300, 1000)  # train, validation, test reviews
MAX_LEN = 24  # the longest generated review has 19 tokens
MODEL_SETTINGS = {"embed_dim": 32, "filter_sizes": (3, 4, 5), "num_filters": 32, "dropout": 0.5}
EPOCHS, BATCH_SIZE = 5, 32
REFERENCE_ACCURACY = 1.0  # the reference's test accuracy on each of 20 sets drawn this way (its lowest)
ACCURACY_MARGIN = 0.05
SEEDED_TOL = 1e-4  # same seed: the same outputs up to float noise; another seed moves them by about 6e-3

def load_data_module():
    """The course's own textcnn_data.py (the copy next to the source notebook, never a student's)."""
    path = Path(__file__).resolve().parents[1] / "assignments" / "textcnn" / "textcnn_data.py"
    spec = importlib.util.spec_from_file_location("textcnn_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


data = load_data_module()


# ---------------------------------------------------------------- inputs drawn from the grader's rng

def messy_text(rng):
    """Capitals, digits, apostrophes, punctuation, accents and all kinds of white space, in a random order."""
    pieces = rng.choice(TEXT_PIECES, size=int(rng.integers(8, 20)))
    return "".join(str(p) + str(rng.choice([" ", "  ", "\t", "\n", ""])) for p in pieces)


def plain_texts(rng, n):
    """Lower-case words and single spaces, with a skewed distribution so that some counts tie."""
    weights = 1.0 / np.arange(1, len(WORDS) + 1)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 12)), p=weights / weights.sum()))
            for _ in range(n)]


def model_sizes(rng):
    """Small build_textcnn arguments: distinct filter sizes in ascending order."""
    sizes = tuple(sorted(int(s) for s in rng.choice(np.arange(1, 6), size=int(rng.integers(2, 4)), replace=False)))
    return {"vocab_size": int(rng.integers(20, 60)), "max_len": int(rng.integers(8, 14)),
            "embed_dim": int(rng.integers(3, 9)), "filter_sizes": sizes, "num_filters": int(rng.integers(2, 7)),
            "dropout": float(rng.choice([0.25, 0.4, 0.5])), "num_classes": int(rng.integers(2, 5))}


def textcnn_weights(rng, s):
    """float32 weights for a TextCNN of sizes `s`; one filter per width gets a bias so negative that ReLU zeroes it."""
    d, f = s["embed_dim"], s["num_filters"]
    biases = [rng.normal(0, 0.3, size=f).astype(np.float32) for _ in s["filter_sizes"]]
    for bias in biases:
        bias[0] = -50.0
    return {"table": rng.normal(size=(s["vocab_size"], d)).astype(np.float32),
            "kernels": [rng.normal(0, 1 / np.sqrt(k * d), size=(k, d, f)).astype(np.float32)
                        for k in s["filter_sizes"]],
            "biases": biases, "W": rng.normal(size=(f * len(s["filter_sizes"]), s["num_classes"])).astype(np.float32),
            "b": rng.normal(size=s["num_classes"]).astype(np.float32)}


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def textcnn_forward(ids, w, order):
    """Kim's forward pass in NumPy (float64): conv + ReLU, max over time, concatenated in `order`, dense, softmax."""
    x = w["table"].astype(np.float64)[ids]
    pooled = []
    for i in order:
        kernel = w["kernels"][i].astype(np.float64)
        width = kernel.shape[0]
        windows = np.stack([x[:, t:t + width] for t in range(x.shape[1] - width + 1)], axis=1)
        pooled.append(np.maximum(np.einsum("ntkd,kdf->ntf", windows, kernel) + w["biases"][i], 0).max(axis=1))
    return softmax(np.concatenate(pooled, axis=1) @ w["W"].astype(np.float64) + w["b"])


def random_ids(rng, sizes):
    """A batch of 6 random id sequences for a model of `sizes`."""
    return rng.integers(0, sizes["vocab_size"], size=(6, sizes["max_len"]))


def hidden_reviews(rng):
    """Train, validation and test reviews drawn from the grader's seed, encoded by the reference.

    Ids and labels come in the smallest integer type that holds them (uint8): the probe's inputs
    count towards the kernel's output limit, once as code and again in the traceback of a timeout.
    """
    texts, labels = data.make_reviews(sum(SPLITS), draw_seed(rng))
    vocab = ref.build_vocab(texts[:SPLITS[0]])
    ids = ref.encode(texts, vocab, MAX_LEN).astype(np.min_scalar_type(len(vocab) - 1))
    cuts = np.cumsum(SPLITS)[:-1]
    return vocab, np.split(ids, cuts), np.split(labels.astype(np.uint8), cuts)


# ---------------------------------------------------------------- tokenize, build_vocab, encode

def expect_tokenized(student, text):
    expect_tokens(student.tokenize(text), ref.tokenize(text), "tokenize(text)")


@check("test_tokenize", points=3, functions=["tokenize"])
def tokenize_matches_reference(student, rng):
    for _ in range(3):
        expect_tokenized(student, messy_text(rng))


@check("test_tokenize", points=1, functions=["tokenize"])
def tokenize_keeps_each_symbol(student, rng):
    for text in ["", " \t\n ", "".join(rng.permutation(list("!?.,;:()-'\"$%&*"))), "Wow!!!That's 10/10...",
                 f"NOT{rng.choice(['!', '?', ','])}bad"]:
        expect_tokenized(student, text)


def expect_vocab(student, texts, *args):
    got = as_vocab(student.build_vocab(texts, *args), "build_vocab(texts, ...)")
    expected = ref.build_vocab(texts, *args)
    if got.get("<pad>") != 0 or got.get("<unk>") != 1:
        raise Fail('build_vocab should give "<pad>" id 0 and "<unk>" id 1')
    if set(got) != set(expected):
        raise Fail(f"build_vocab(texts, ...) keeps {len(got)} tokens, not the right ones")
    if got != expected:
        raise Fail("build_vocab gives the right tokens the wrong ids (by descending count, ties by first appearance)")


@check("test_build_vocab", points=4, functions=TEXT_USES)
def build_vocab_matches_reference(student, rng):
    expect_vocab(student, plain_texts(rng, int(rng.integers(10, 30))))


@check("test_build_vocab", points=6, functions=TEXT_USES)
def build_vocab_respects_max_size_and_min_count(student, rng):
    texts = plain_texts(rng, int(rng.integers(10, 30)))
    expect_vocab(student, texts, int(rng.integers(4, 9)))
    expect_vocab(student, texts, None, int(rng.integers(2, 5)))


def expect_encoding(student, texts, vocab, max_len):
    got = as_int_array(student.encode(texts, vocab, max_len), f"encode of {len(texts)} texts with max_len={max_len}",
                       (len(texts), max_len))
    if not np.array_equal(got, ref.encode(texts, vocab, max_len)):
        raise Fail("encode gives wrong ids (unknown tokens are 1, padding is 0 on the right, the first max_len "
                   "tokens are kept)")


@check("test_encode", points=5, functions=ENCODE_USES)
def encode_matches_reference(student, rng):
    texts = plain_texts(rng, 12)
    vocab = ref.build_vocab(texts[:4])  # the other texts have unknown words
    expect_encoding(student, texts, vocab, int(rng.integers(3, 9)))


@check("test_encode", points=3, functions=ENCODE_USES)
def encode_pads_and_truncates(student, rng):
    texts = plain_texts(rng, 4)
    vocab = ref.build_vocab(texts)
    long = " ".join(rng.choice(WORDS, size=20))
    expect_encoding(student, ["", long, texts[0], "zzz " + texts[1]], vocab, int(rng.integers(5, 12)))


# ---------------------------------------------------------------- build_textcnn

@check("test_build_textcnn", points=12, functions=["build_textcnn"])
def textcnn_structure(student, rng):
    s = model_sizes(rng)
    layers = expect_model(student.probe(probes.textcnn, sizes=s), "build_textcnn", shapes=[(3, s["num_classes"])])
    features = s["num_filters"] * len(s["filter_sizes"])
    expect_layers(layers, {"Embedding": [(s["vocab_size"], s["embed_dim"])],
                           "Conv1D": [(size, s["num_filters"]) for size in s["filter_sizes"]],
                           "Dropout": [(s["dropout"], features)], "Dense": [(s["num_classes"], features)]},
                  f"build_textcnn (details: (input_dim, output_dim), (kernel size, filters), (rate, input width), "
                  f"(units, input width)) with filter_sizes={s['filter_sizes']}")


@check("test_build_textcnn", points=6, functions=["build_textcnn"])
def textcnn_parameter_count(student, rng):
    s = model_sizes(rng)
    d, f, sizes = s["embed_dim"], s["num_filters"], s["filter_sizes"]
    expected = s["vocab_size"] * d + sum(k * d * f + f for k in sizes) + (f * len(sizes) + 1) * s["num_classes"]
    expect_model(student.probe(probes.textcnn, sizes=s), "build_textcnn (Embedding + Conv1Ds + Dense)",
                 params=expected)


@check("test_build_textcnn", points=14, functions=["build_textcnn"])
def textcnn_max_over_time_forward_pass(student, rng):
    s = model_sizes(rng)
    w = textcnn_weights(rng, s)
    ids = random_ids(rng, s)
    got = student.probe(probes.outputs_with_weights, sizes=s, ids=ids, **w)
    if got is None:
        raise Fail("the model should have one Embedding, one Conv1D per filter size and one Dense layer, so that "
                   "the grader can set their weights")
    got = as_array(got, "the model's output", (6, s["num_classes"]))
    errors = [np.max(np.abs(got - textcnn_forward(ids, w, order)))
              for order in itertools.permutations(range(len(s["filter_sizes"])))]
    if not min(errors) <= 1e-5:
        raise Fail(f"with weights the grader set, the outputs differ by {min(errors):.1e} from Conv1D + ReLU, max over "
                   "time, concatenate, Dense + softmax (in inference mode)")


@check("test_build_textcnn", points=6, functions=["build_textcnn"])
def textcnn_probabilities_and_dropout(student, rng):
    s = model_sizes(rng)
    got = student.probe(probes.outputs_twice_each_mode, sizes=s, ids=random_ids(rng, s))
    if not isinstance(got, list) or len(got) != 4:
        raise Fail("the model's outputs could not be read")
    first, again, train_a, train_b = (as_array(p, "the model's output", (6, s["num_classes"])) for p in got)
    for p in (first, train_a):
        if np.any(p < 0) or np.max(np.abs(p.sum(axis=1) - 1)) > 1e-5:
            raise Fail("the outputs should be probabilities: non-negative, summing to 1 over the classes")
    expect_outputs(again, first, "the outputs of two calls in inference mode (dropout must be off)")
    if np.max(np.abs(train_a - train_b)) < 1e-6 or np.max(np.abs(train_a - first)) < 1e-6:
        raise Fail("in training mode (model(x, training=True)) the outputs should change from call to call: dropout")


# ---------------------------------------------------------------- predict_sentiment

def expect_predictions(student, rng, texts, vocab, max_len, num_classes):
    """predict_sentiment on the grader's model with weights set here, against its forward pass."""
    sizes = {"vocab_size": len(vocab), "max_len": max_len, "embed_dim": 4, "num_classes": num_classes}
    table, W, b = (rng.normal(size=shape).astype(np.float32) for shape in
                   ((len(vocab), 4), (4 * max_len, num_classes), (num_classes,)))
    got = as_int_array(student.probe(probes.predictions_of_grader_model, sizes=sizes, weights=[table, W, b],
                                     texts=texts, vocab=vocab), f"predict_sentiment of {len(texts)} texts", (len(texts),))
    scores = table.astype(np.float64)[ref.encode(texts, vocab, max_len)].reshape(len(texts), -1) @ W + b
    clear = np.sort(scores, axis=1)[:, -1] - np.sort(scores, axis=1)[:, -2] > 1e-3  # no near-ties
    if not np.array_equal(got[clear], np.argmax(scores, axis=1)[clear]):
        raise Fail("predict_sentiment does not give the most probable class of the model for each text (encoded "
                   "with the given vocab and max_len)")


@check("test_predict_sentiment", points=6, functions=PREDICT_USES)
def predict_sentiment_matches_model(student, rng):
    texts = plain_texts(rng, 10)
    expect_predictions(student, rng, texts, ref.build_vocab(texts), 12, 3)


@check("test_predict_sentiment", points=4, functions=PREDICT_USES)
def predict_sentiment_handles_unknown_and_long_texts(student, rng):
    texts = plain_texts(rng, 10)
    texts += [messy_text(rng), " ".join(rng.choice(WORDS, size=30)), ""]
    expect_predictions(student, rng, texts, ref.build_vocab(texts[:3]), 6, 2)


# ---------------------------------------------------------------- train_textcnn (last: the slowest)

def small_problem(rng, n=96):
    """Plain texts, labels and encodings for short training runs."""
    texts = plain_texts(rng, n + 32)
    vocab = ref.build_vocab(texts)
    ids, labels = ref.encode(texts, vocab, 10), rng.integers(0, 2, size=n + 32)
    sizes = {"vocab_size": len(vocab), "max_len": 10, "embed_dim": 4, "num_classes": 2}
    return sizes, ids[:n], labels[:n], ids[n:], labels[n:]


@check("test_train_textcnn", points=4, functions=["train_textcnn"])
def train_textcnn_compiles_and_fits(student, rng):
    sizes, X, y, X_val, y_val = small_problem(rng)
    epochs, batch_size = int(rng.integers(2, 4)), int(rng.choice([16, 32]))
    probabilities = softmax(rng.normal(size=(8, 2))).astype(np.float32)
    got = student.probe(probes.fit_of_grader_model, sizes=sizes, X=X, y=y, X_val=X_val, y_val=y_val, epochs=epochs,
                        batch_size=batch_size, seed=draw_seed(rng), probabilities=probabilities)
    if not isinstance(got, dict) or got.get("type") != "History":
        raise Fail("train_textcnn should return the History that model.fit returns")
    lengths = got["lengths"] or {}
    if lengths.get("loss") != epochs or lengths.get("val_loss") != epochs:
        raise Fail(f"the History should have {epochs} losses and validation losses for epochs={epochs} (pass "
                   f"validation_data), found {lengths}")
    if got["params"].get("steps") != math.ceil(len(X) / batch_size):
        raise Fail(f"fit should go through the {len(X)} training examples in batches of batch_size={batch_size}")
    expected = -np.mean(np.log(probabilities.astype(np.float64)[np.arange(8), y[:8]]))
    if not abs(got["loss"] - expected) <= 1e-4 * expected:
        raise Fail("the model is not compiled with the cross-entropy of integer labels on probabilities "
                   "(sparse categorical cross-entropy)")


@check("test_train_textcnn", points=2, functions=["train_textcnn"])
def train_textcnn_without_validation(student, rng):
    sizes, X, y, _, _ = small_problem(rng, n=32)
    probabilities = softmax(rng.normal(size=(8, 2))).astype(np.float32)
    unvalidated = student.probe(probes.fit_of_grader_model, sizes=sizes, X=X, y=y, X_val=None, y_val=None,
                                epochs=1, batch_size=16, seed=draw_seed(rng), probabilities=probabilities)
    lengths = (unvalidated.get("lengths") if isinstance(unvalidated, dict) else None) or {}
    if lengths.get("loss") != 1 or any(name.startswith("val_") for name in lengths):
        raise Fail("with X_val=None, train_textcnn should train without validation (a History without val_ entries)")


@check("test_train_textcnn", points=6, functions=["train_textcnn"])
def train_textcnn_is_seeded(student, rng):
    sizes, X, y, X_val, y_val = small_problem(rng)
    seed = draw_seed(rng)
    got = student.probe(probes.seeded_trainings, sizes=sizes, X=X, y=y, X_val=X_val, y_val=y_val,
                        runs=[(seed, 1), (seed, 2), (seed + 1, 1)])
    if not isinstance(got, list) or len(got) != 3:
        raise Fail("the trained models' outputs could not be read")
    first, same, other = (as_array(p, "the trained model's output", (len(X_val), 2)) for p in got)
    if np.max(np.abs(first - same)) > SEEDED_TOL:
        raise Fail("two trainings with the same seed differ: call keras.utils.set_random_seed(seed) first")
    if np.max(np.abs(first - other)) <= SEEDED_TOL:
        raise Fail("trainings with different seeds give the same model: use the seed you are given")


@check("test_train_textcnn", points=18, functions=ACCURACY_USES)
def trained_textcnn_reaches_reference_accuracy(student, rng):
    vocab, (X, X_val, X_test), (y, y_val, y_test) = hidden_reviews(rng)
    got = student.probe(probes.trained_predictions, X=X, y=y, X_val=X_val, y_val=y_val, X_test=X_test,
                        vocab_size=len(vocab), max_len=MAX_LEN, settings=MODEL_SETTINGS, epochs=EPOCHS,
                        batch_size=BATCH_SIZE, seed=draw_seed(rng))
    got = as_tuple(got, 2, "the probe of train_textcnn")
    curve(f"your History's losses ({EPOCHS} epochs, batch size {BATCH_SIZE})", got[1], "epoch", "cross-entropy")
    probabilities = as_array(got[0], "the trained model's predictions on the test reviews", (len(X_test), 2))
    expect_near_reference(float(np.mean(np.argmax(probabilities, axis=1) == y_test)), REFERENCE_ACCURACY,
                          ACCURACY_MARGIN, f"the accuracy on {len(X_test)} held-out reviews after training on "
                          f"{len(X)} ({MODEL_SETTINGS}, {EPOCHS} epochs, batch size {BATCH_SIZE})")


CHECKS = (tokenize_matches_reference, tokenize_keeps_each_symbol, build_vocab_matches_reference,
          build_vocab_respects_max_size_and_min_count, encode_matches_reference, encode_pads_and_truncates,
          textcnn_structure, textcnn_parameter_count, textcnn_max_over_time_forward_pass,
          textcnn_probabilities_and_dropout, predict_sentiment_matches_model,
          predict_sentiment_handles_unknown_and_long_texts, train_textcnn_compiles_and_fits,
          train_textcnn_without_validation, train_textcnn_is_seeded,
          trained_textcnn_reaches_reference_accuracy)
