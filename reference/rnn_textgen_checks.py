"""Hidden checks of the `rnn_textgen` assignment: every verdict is reached here, against the reference."""
import functools

import numpy as np

from autograder.checks import (Fail, against_pass_line, as_array, as_ids, as_tuple, check, curve, draw_seed,
                               expect_close, expect_distribution, expect_gradient, expect_layers, expect_model,
                               expect_named, expect_near_reference, expect_outputs, measured_once, table)
from reference import rnn_textgen as ref
from reference import rnn_textgen_probes as probes

STEP = ["rnn_step_forward", "rnn_step_backward"]
SEQUENCE = ["rnn_forward", "rnn_backward", *STEP]
MODEL = ["build_char_model"]
TRAIN = ["train_char_model", "build_char_vocab", "make_sequences", *MODEL]
CELLS = {"gru": "GRU", "lstm": "LSTM", "simple": "SimpleRNN"}
GENERATION_VOCAB = "abcdefgh "

# The grader's corpus: sentences of a small grammar, so a model trained within the budget learns real
# structure, and the validation text comes from the same source and vocabulary.
SUBJECTS = ["the cat", "a dog", "my friend", "the old man", "her sister", "a small bird", "the teacher", "our baker"]
VERBS = ["sees", "likes", "finds", "takes", "wants", "paints", "carries", "forgets"]
OBJECTS = ["the ball", "a red box", "some bread", "the green door", "a long letter", "his hat", "the map",
           "a cup of tea"]
ENDINGS = [".", " today.", " again.", " at night.", " in the garden."]
TRAINING = {"seq_len": 50, "embed_dim": 16, "units": 64, "epochs": 8, "seed": 1234}  # the budget
MARGIN_OVER_UNIGRAM = 1.0  # bits per character the trained model must gain over the unigram model
# Bits per character it may lose against the reference's run with the same budget. Implementations that follow
# the recipe but draw their randomness in another order land anywhere the reference does over training seeds:
# measured 0.47-0.72 (GRU), 0.63-0.99 with 10% held out for validation, 0.80-1.04 with an LSTM, against the
# reference's 0.53; Keras's default Adam() (learning rate 1e-3, not the recipe's) stays at 3.5.
MARGIN_OVER_REFERENCE = 1.0

def grammar_text(rng, length):
    sentences, size = [], 0
    while size < length:
        sentence = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(ENDINGS)} "
        sentences.append(sentence)
        size += len(sentence)
    return "".join(sentences)[:length]


@functools.cache
def corpus():
    """(training text, validation text): fixed, so the reference's run is made once per grading worker."""
    rng = np.random.default_rng(20141201)
    return grammar_text(rng, 12000), grammar_text(rng, 2000)


def bits_per_character(logits, targets):
    """Mean cross-entropy of `targets` under `logits`, in bits."""
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return float(-log_p[np.arange(len(targets)), targets].mean() / np.log(2))


@measured_once
def reference_bits_per_character():
    import keras  # here: loading the checks loads no framework, so the grader's workers can fork after it
    text, validation = corpus()
    model, char_to_id, _, _ = ref.train_char_model(text, **TRAINING)
    ids = np.array([char_to_id[c] for c in validation])
    return bits_per_character(keras.ops.convert_to_numpy(model(ids[None, :-1]))[0].astype(np.float64), ids[1:])


def unigram_bits_per_character(text, validation):
    chars = sorted(set(text))
    counts = np.array([text.count(c) for c in chars], dtype=np.float64)
    return float(-np.mean(np.log2((counts / counts.sum())[[chars.index(c) for c in validation[1:]]])))


def causal_cut():
    """Where the validation text's second half starts: the probe changes what follows, to test causality."""
    return len(corpus()[1]) // 2


def trained_run(student):
    """The student's model trained on the grader's text, once per submission: what `probes.trained_logits` returns."""
    text, validation = corpus()
    cut = causal_cut()
    rng_ids = np.random.default_rng(7).integers(0, len(set(text)), size=len(validation) - cut)
    return as_tuple(student.probe_once(probes.trained_logits, text=text, validation=validation, cut=cut,
                                       rng_ids=rng_ids, **TRAINING), 5, "the probe of train_char_model")


def trained_bits_per_character(student):
    """The judge's bits per character of the student's trained model on held-out text.

    The model must be causal: logits before `cut` may not change when later characters do,
    or it could read each answer from its own input.
    """
    text, validation = corpus()
    cut, got = causal_cut(), trained_run(student)
    vocabulary = sorted(set(text))
    if got[2] != [(c, i) for i, c in enumerate(vocabulary)]:
        raise Fail("train_char_model should return the char_to_id of build_char_vocab(text)")
    shape = (1, len(validation), len(vocabulary))
    logits, changed = as_array(got[0], "the trained model's logits", shape), as_array(got[1], "logits", shape)
    if not np.allclose(logits[:, :cut], changed[:, :cut], atol=1e-4):
        raise Fail("the trained model is not causal: changing later characters changed earlier logits")
    ids = np.array([vocabulary.index(c) for c in validation])
    return bits_per_character(logits[0, :-1], ids[1:])


def random_step(rng):
    n, d, h = (int(v) for v in rng.integers(2, 6, size=3))
    return (rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(0, 0.5, size=(d, h)),
            rng.normal(0, 0.5, size=(h, h)), rng.normal(size=h))


def random_sequence(rng):
    x, h0, Wx, Wh, b = random_step(rng)
    t = int(rng.integers(2, 6))
    return rng.normal(size=(x.shape[0], t, x.shape[1])), h0, Wx, Wh, b


def expect_gradients(got, names, inputs, loss):
    """Gradient-check each of the student's gradients against centred differences of `loss` computed here."""
    got = as_tuple(got, len(names), "the gradients")
    for position, name in enumerate(names):
        def partial(value, position=position):
            return loss(*inputs[:position], value, *inputs[position + 1:])
        expect_gradient(got[position], partial, inputs[position], name)


@check("test_rnn_step_forward", points=8, functions=["rnn_step_forward"])
def rnn_step_forward_matches_reference(student, rng):
    inputs = random_step(rng)
    h = as_tuple(student.rnn_step_forward(*inputs), 2, "rnn_step_forward")[0]
    expect_close(h, ref.rnn_step_forward(*inputs)[0], "h of rnn_step_forward")


STEP_GRADIENTS = ("dx", "dh_prev", "dWx", "dWh", "db")
SEQUENCE_GRADIENTS = ("dx", "dh0", "dWx", "dWh", "db")


def step_gradients(student, rng):
    inputs = random_step(rng)
    dh = rng.normal(size=inputs[1].shape)
    return inputs, dh, student.probe(probes.step_backward_of_own_forward, inputs=list(inputs), dh=dh)


@check("test_rnn_step_backward", points=6, functions=STEP)
def rnn_step_backward_matches_reference(student, rng):
    inputs, dh, got = step_gradients(student, rng)
    expect_named(got, ref.rnn_step_backward(dh, ref.rnn_step_forward(*inputs)[1]), STEP_GRADIENTS,
                 "rnn_step_backward")


@check("test_rnn_step_backward", points=6, functions=STEP)
def rnn_step_backward_passes_gradient_check(student, rng):
    inputs, dh, got = step_gradients(student, rng)
    expect_gradients(got, STEP_GRADIENTS, inputs,
                     lambda *values: float(np.sum(ref.rnn_step_forward(*values)[0] * dh)))


@check("test_rnn_forward", points=8, functions=["rnn_forward", "rnn_step_forward"])
def rnn_forward_matches_reference(student, rng):
    inputs = random_sequence(rng)
    h = as_tuple(student.rnn_forward(*inputs), 2, "rnn_forward")[0]
    expect_close(h, ref.rnn_forward(*inputs)[0], "h of rnn_forward")


def sequence_gradients(student, rng):
    inputs = random_sequence(rng)
    dh = rng.normal(size=(*inputs[0].shape[:2], inputs[1].shape[1]))
    return inputs, dh, student.probe(probes.backward_of_own_forward, inputs=list(inputs), dh=dh)


@check("test_rnn_backward", points=8, functions=SEQUENCE)
def rnn_backward_matches_reference(student, rng):
    inputs, dh, got = sequence_gradients(student, rng)
    expect_named(got, ref.rnn_backward(dh, ref.rnn_forward(*inputs)[1]), SEQUENCE_GRADIENTS, "rnn_backward")


@check("test_rnn_backward", points=8, functions=SEQUENCE)
def rnn_backward_passes_gradient_check(student, rng):
    inputs, dh, got = sequence_gradients(student, rng)
    expect_gradients(got, SEQUENCE_GRADIENTS, inputs,
                     lambda *values: float(np.sum(ref.rnn_forward(*values)[0] * dh)))


def random_grads(rng, scale):
    return [rng.normal(0, scale, size=tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 3)))))
            for _ in range(int(rng.integers(2, 5)))]


def expect_clipped(student, grads, max_norm):
    got = student.clip_by_global_norm(grads, max_norm)
    if not isinstance(got, (list, tuple)) or len(got) != len(grads):
        raise Fail(f"clip_by_global_norm should return a list of {len(grads)} arrays")
    for index, (value, expected) in enumerate(zip(got, ref.clip_by_global_norm(grads, max_norm))):
        expect_close(value, expected, f"gradient {index} of clip_by_global_norm")


@check("test_clip_by_global_norm", points=4, functions=["clip_by_global_norm"])
def clip_scales_all_gradients_together(student, rng):
    expect_clipped(student, random_grads(rng, 10.0), float(rng.uniform(0.5, 2.0)))


@check("test_clip_by_global_norm", points=2, functions=["clip_by_global_norm"])
def clip_leaves_small_gradients_alone(student, rng):
    expect_clipped(student, random_grads(rng, 0.01), 100.0)


@check("test_build_char_vocab", points=4, functions=["build_char_vocab"])
def char_vocab_is_sorted_and_inverse(student, rng):
    text = "".join(rng.choice(list("zyx cba!?.\n'qé"), size=60))
    got = as_tuple(student.probe(probes.char_vocab, text=text), 2, "build_char_vocab")
    expected = [(c, i) for i, c in enumerate(sorted(set(text)))]
    if got[0] != expected:
        raise Fail("char_to_id should map the sorted distinct characters to 0, 1, 2, ...")
    if got[1] != [(i, c) for c, i in expected]:
        raise Fail("id_to_char should be the inverse of char_to_id")


@check("test_make_sequences", points=6, functions=["make_sequences"])
def make_sequences_matches_reference(student, rng):
    ids, seq_len = rng.integers(0, 30, size=int(rng.integers(20, 60))), int(rng.integers(2, 9))
    got = as_tuple(student.make_sequences(ids, seq_len), 2, "make_sequences")
    for name, value, expected in zip("XY", got, ref.make_sequences(ids, seq_len)):
        value = as_array(value, f"{name} of make_sequences", expected.shape)
        if not np.array_equal(value, expected):
            raise Fail(f"{name} of make_sequences is wrong (Y[i] should be X[i] shifted one character left)")


@check("test_build_char_model", points=5, functions=MODEL)
def char_model_structure(student, rng):
    vocab, embed, units = (int(v) for v in rng.integers(3, 12, size=3))
    for cell, layer in CELLS.items():
        what = f"build_char_model(..., cell={cell!r})"
        got = student.probe(probes.char_model, vocab=vocab, embed=embed, units=units, cell=cell)
        layers = expect_model(got, what, params=ref.build_char_model(vocab, embed, units, cell).count_params(),
                              shapes=[(2, 7, vocab), (2, 3, vocab)])
        expect_layers(layers, {"Embedding": [(vocab, embed)], layer: [(units,)]}, what)
        if [units for units, _ in layers.get("Dense", [])] != [vocab]:
            raise Fail(f"{what} should end in one Dense layer of vocab_size units (the logits)")


@check("test_build_char_model", points=5, functions=MODEL)
def char_model_is_causal(student, rng):
    vocab, embed, units = (int(v) for v in rng.integers(3, 12, size=3))
    ids = rng.integers(0, vocab, size=(2, 12))
    changed = ids.copy()
    changed[:, 6:] = rng.integers(0, vocab, size=(2, 6))
    got = as_tuple(student.probe(probes.char_model_outputs, vocab=vocab, embed=embed, units=units, ids=ids,
                                 changed=changed), 2, "model outputs")
    before = as_array(got[0], "the model's logits", (2, 12, vocab))
    expect_outputs(as_array(got[1], "the model's logits", (2, 12, vocab))[:, :6], before[:, :6],
                   "logits of the first 6 steps after changing the characters after them (the model must be causal)")


def sampled(student, logits, temperature, seed, n):
    what = "sample_with_temperature"
    got = student.probe(probes.draws, logits=logits, temperature=temperature, seed=seed, n=n)
    if not isinstance(got, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in got):
        raise Fail(f"{what} should return one int id")
    return as_ids(got, what, len(logits))


@check("test_sample_with_temperature", points=7, functions=["sample_with_temperature"])
def sampling_follows_the_tempered_distribution(student, rng):
    logits, n = rng.normal(0, 1.5, size=8), 3000
    for temperature in (0.5, 1.0, 2.0):
        draws = sampled(student, logits, temperature, draw_seed(rng), n)
        p = np.exp(logits / temperature - np.max(logits / temperature))
        expect_distribution(draws, p / p.sum(), f"sample_with_temperature at temperature {temperature} "
                            "(softmax(logits / temperature))")


@check("test_sample_with_temperature", points=3, functions=["sample_with_temperature"])
def temperature_zero_is_argmax(student, rng):
    logits = rng.normal(size=(5, 9))
    for row in logits:
        draws = sampled(student, row, 0, draw_seed(rng), 3)
        if not np.all(draws == np.argmax(row)):
            raise Fail("at temperature 0 sample_with_temperature should return the argmax")


def bigram_table(rng, vocab):
    """Logits of a bigram model with two likely successors per character and the rest impossible."""
    table = np.full((len(vocab), len(vocab)), -30.0, dtype=np.float32)
    for row in table:
        row[rng.choice(len(vocab), size=2, replace=False)] = rng.normal(0, 1, size=2)
    return table


def recurrent_weights(rng, vocab_size, units=6):
    """float32 weights of Embedding -> SimpleRNN -> Dense, the state strong enough to carry the past."""
    shapes = [(vocab_size, 4), (4, units), (units, units), (units,), (units, vocab_size), (vocab_size,)]
    scales = [1.0, 0.8, 0.6, 0.3, 2.0, 0.5]
    return [rng.normal(0, scale, size=shape).astype(np.float32) for shape, scale in zip(shapes, scales)]


def greedy_ids(weights, ids, length, memory=True):
    """The ids a greedy generator appends (from the whole text, or from the last character alone when not
    `memory`), and the smallest gap between the best and second-best logit on the way."""
    table, Wx, Wh, b, Wo, bo = (w.astype(np.float64) for w in weights)
    ids, gaps = list(ids), []
    for _ in range(length):
        h = np.zeros(len(Wh))
        for i in (ids if memory else ids[-1:]):
            h = np.tanh(table[i] @ Wx + h @ Wh + b)
        logits = h @ Wo + bo
        best, second = np.sort(logits)[[-1, -2]]
        gaps.append(best - second)
        ids.append(int(np.argmax(logits)))
    return ids, min(gaps)


def as_generated(got, seed_text, length):
    if not isinstance(got, str) or len(got) != len(seed_text) + length or not got.startswith(seed_text):
        raise Fail(f"generate_text should return seed_text followed by {length} generated characters")
    return got


@check("test_generate_text", points=4, functions=["generate_text", "sample_with_temperature"])
def greedy_generation_follows_the_model(student, rng):
    """With a recurrent model, the next character depends on the whole text: feeding the last one is not enough."""
    vocab, seed_text, length = GENERATION_VOCAB, "ab", 20
    seed_ids = [vocab.index(c) for c in seed_text]
    while True:  # weights whose greedy text is clear-cut, and not what the last character alone gives
        weights = recurrent_weights(rng, len(vocab))
        expected, gap = greedy_ids(weights, seed_ids, length)
        if gap > 1e-3 and expected != greedy_ids(weights, seed_ids, length, memory=False)[0]:
            break
    got = as_generated(student.probe(probes.recurrent_generation, weights=weights,
                                     char_to_id={c: i for i, c in enumerate(vocab)}, seed_text=seed_text,
                                     length=length), seed_text, length)
    if got != "".join(vocab[i] for i in expected):
        raise Fail("at temperature 0, generate_text should feed the model the whole text so far and append the "
                   "argmax of the last step's logits each time")


@check("test_generate_text", points=4, functions=["generate_text", "sample_with_temperature"])
def sampled_generation_follows_the_model(student, rng):
    vocab, seed_text, length = GENERATION_VOCAB, "ba", 60
    table = bigram_table(rng, vocab)
    text = as_generated(student.probe(probes.bigram_generation, table=table,
                                      char_to_id={c: i for i, c in enumerate(vocab)}, seed_text=seed_text,
                                      length=length, temperature=1.0, seed=draw_seed(rng)), seed_text, length)
    for previous, following in zip(text[1:], text[2:]):
        if table[vocab.index(previous), vocab.index(following)] < -20:
            raise Fail("generate_text produced a character the model gives no probability after the one before: "
                       "sample from the logits of the last step")


@check("test_train_char_model", points=6, functions=TRAIN)
def trained_model_beats_unigram(student, rng):
    text, validation = corpus()
    bits, unigram = trained_bits_per_character(student), unigram_bits_per_character(text, validation)
    _, _, _, losses, samples = trained_run(student)
    curve(f"your training losses: train_char_model on the grader's text ({TRAINING})", {"loss": losses}, "epoch",
          "cross-entropy (nats)")
    table(f"what your trained model writes after {validation[:TRAINING['seq_len']]!r}", ["temperature", "text"],
          samples)
    against_pass_line("validation loss: the unigram model's less the margin", bits, unigram - MARGIN_OVER_UNIGRAM,
                      higher_is_better=False, unit=" bits per character")
    if not bits <= unigram - MARGIN_OVER_UNIGRAM:
        raise Fail(f"validation loss {bits:.2f} bits per character; the unigram model has {unigram:.2f} and "
                   f"the model should gain at least {MARGIN_OVER_UNIGRAM} over it")


@check("test_train_char_model", points=6, functions=TRAIN)
def trained_model_is_near_the_reference(student, rng):
    expect_near_reference(trained_bits_per_character(student), reference_bits_per_character(), MARGIN_OVER_REFERENCE,
                          f"the validation loss after the recipe's training ({TRAINING})", higher_is_better=False,
                          unit=" bits per character")


CHECKS = (rnn_step_forward_matches_reference, rnn_step_backward_matches_reference,
          rnn_step_backward_passes_gradient_check, rnn_forward_matches_reference, rnn_backward_matches_reference,
          rnn_backward_passes_gradient_check, clip_scales_all_gradients_together, clip_leaves_small_gradients_alone,
          char_vocab_is_sorted_and_inverse, make_sequences_matches_reference, sampling_follows_the_tempered_distribution,
          temperature_zero_is_argmax, char_model_structure, char_model_is_causal, greedy_generation_follows_the_model,
          sampled_generation_follows_the_model, trained_model_beats_unigram, trained_model_is_near_the_reference)
