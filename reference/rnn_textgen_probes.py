"""Kernel-side probes of `rnn_textgen`: they run in the student's kernel (see `autograder.probes`)."""
from autograder.keras_probes import describe_model


def step_backward_of_own_forward(student, inputs, dh):
    """rnn_step_backward on the cache of the student's own rnn_step_forward."""
    _, cache = student.rnn_step_forward(*inputs)
    return student.rnn_step_backward(dh, cache)


def backward_of_own_forward(student, inputs, dh):
    """rnn_backward on the cache of the student's own rnn_forward."""
    _, cache = student.rnn_forward(*inputs)
    return student.rnn_backward(dh, cache)


def char_vocab(student, text):
    """Both dicts of build_char_vocab as sorted items (an int-keyed dict does not cross the wire)."""
    char_to_id, id_to_char = student.build_char_vocab(text)
    return sorted(char_to_id.items()), sorted(id_to_char.items())


def char_model(student, vocab, embed, units, cell):
    """The model of build_char_model, described on batches of two lengths."""
    import numpy as np
    return describe_model(student.build_char_model(vocab, embed, units, cell),
                          [np.zeros((2, 7), "int32"), np.zeros((2, 3), "int32")])


def char_model_outputs(student, vocab, embed, units, ids, changed):
    """The logits of one seeded model of build_char_model on `ids` and on `changed`."""
    import keras
    keras.utils.set_random_seed(0)
    model = student.build_char_model(vocab, embed, units)
    return keras.ops.convert_to_numpy(model(ids)), keras.ops.convert_to_numpy(model(changed))


def draws(student, logits, temperature, seed, n):
    """n draws of sample_with_temperature from one generator."""
    import numpy as np
    rng = np.random.default_rng(seed)
    return [student.sample_with_temperature(logits, temperature, rng) for _ in range(n)]


def bigram_generation(student, table, char_to_id, seed_text, length, temperature, seed):
    """generate_text with a model whose logits at each step depend only on that step's character."""
    import keras
    import numpy as np
    inputs = keras.Input(shape=(None,), dtype="int32")
    layer = keras.layers.Embedding(len(table), len(table))
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights([table])
    id_to_char = {i: c for c, i in char_to_id.items()}
    return student.generate_text(model, char_to_id, id_to_char, seed_text, length, temperature,
                                 np.random.default_rng(seed))


def recurrent_generation(student, weights, char_to_id, seed_text, length):
    """Greedy generate_text with a SimpleRNN whose next character depends on the whole text so far."""
    import keras
    import numpy as np
    table, Wx, Wh, b, Wo, bo = weights
    inputs = keras.Input(shape=(None,), dtype="int32")
    layers = [keras.layers.Embedding(*table.shape), keras.layers.SimpleRNN(len(Wh), return_sequences=True),
              keras.layers.Dense(Wo.shape[1])]
    outputs = inputs
    for layer in layers:
        outputs = layer(outputs)
    for layer, values in zip(layers, ([table], [Wx, Wh, b], [Wo, bo])):
        layer.set_weights(values)
    id_to_char = {i: c for c, i in char_to_id.items()}
    return student.generate_text(keras.Model(inputs, outputs), char_to_id, id_to_char, seed_text, length, 0,
                                 np.random.default_rng(0))


def trained_logits(student, text, validation, cut, rng_ids, seq_len, embed_dim, units, epochs, seed):
    """Train on the grader's text; the model's logits on the validation text, and on it with the part after
    `cut` replaced by `rng_ids` (a causal model's earlier logits do not change), and char_to_id. Then, for the
    student to see, the History's losses and what the model writes after the validation text's first window
    at a few temperatures (sampled here, with the grader's own loop: only the model is the student's)."""
    import keras
    import numpy as np
    model, char_to_id, _, history = student.train_char_model(text, seq_len, embed_dim, units, epochs, seed)
    ids = np.array([[char_to_id[c] for c in validation]])
    changed = ids.copy()
    changed[:, cut:] = rng_ids
    logits = (keras.ops.convert_to_numpy(model(ids)), keras.ops.convert_to_numpy(model(changed)),
              sorted(char_to_id.items()))
    try:
        losses = [float(loss) for loss in history.history["loss"]]
    except Exception:  # not a History: nothing to draw
        losses = []
    id_to_char, rng, temperatures = {i: c for c, i in char_to_id.items()}, np.random.default_rng(seed), [0.5, 1.0, 1.5]
    try:  # one compiled call a character for all three (an eager call of a GRU costs twenty times more)
        windows, written = np.repeat(ids[:, :seq_len], len(temperatures), axis=0), []
        for _ in range(40):
            last = np.asarray(model.predict_on_batch(windows), dtype=np.float64)[:, -1] / np.c_[temperatures]
            p = np.exp(last - last.max(axis=1, keepdims=True))
            written.append([int(rng.choice(p.shape[1], p=row / row.sum())) for row in p])
            windows = np.concatenate([windows[:, 1:], np.array(written[-1])[:, None]], axis=1)
        samples = [[t, "".join(id_to_char[step[k]] for step in written)] for k, t in enumerate(temperatures)]
    except Exception:  # outputs that cannot be sampled (NaN): the checks say what is wrong with the model
        samples = []
    return (*logits, losses, samples)
