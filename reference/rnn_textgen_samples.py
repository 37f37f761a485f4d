"""Sample submissions of `rnn_textgen` for `make demo` and the tests, as edits of the reference.

`samples(source)` gets {function: reference source} and returns {student: {function: cell source}}
(cells not named keep the reference; None means the blank release notebook). `BUGS` maps each
sample with one realistic bug to the function it is in.
"""
from autograder.samples import with_bugs

# A correct solution written another way: dict caches, a vectorised clip, Gumbel-max sampling, Sequential, and
# the recipe's training with the last 10% of the windows held out for validation.
OTHER_STYLE = {
    "rnn_forward": '''def rnn_forward(x, h0, Wx, Wh, b):
    states, caches = [h0], {}
    for t in range(x.shape[1]):
        h_t, caches[t] = rnn_step_forward(x[:, t, :], states[-1], Wx, Wh, b)
        states.append(h_t)
    return np.stack(states[1:], axis=1), {"steps": caches, "T": x.shape[1]}
''',
    "rnn_backward": '''def rnn_backward(dh, cache):
    grads, carried = None, np.zeros_like(dh[:, 0])
    dxs = []
    for t in range(cache["T"] - 1, -1, -1):
        dx_t, carried, *weights = rnn_step_backward(dh[:, t] + carried, cache["steps"][t])
        grads = weights if grads is None else [g + w for g, w in zip(grads, weights)]
        dxs.append(dx_t)
    return (np.stack(dxs[::-1], axis=1), carried, *grads)
''',
    "clip_by_global_norm": '''def clip_by_global_norm(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]))
    return [g * min(1.0, max_norm / max(norm, 1e-12)) for g in grads]
''',
    "make_sequences": '''def make_sequences(ids, seq_len):
    ids = np.array(ids)
    starts = range(0, ((len(ids) - 1) // seq_len) * seq_len, seq_len)
    X = np.array([ids[s:s + seq_len] for s in starts], dtype=np.int64).reshape(-1, seq_len)
    Y = np.array([ids[s + 1:s + seq_len + 1] for s in starts], dtype=np.int64).reshape(-1, seq_len)
    return X, Y
''',
    "sample_with_temperature": '''def sample_with_temperature(logits, temperature, rng):
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(logits.argmax())
    return int(np.argmax(logits / temperature + rng.gumbel(size=logits.shape)))  # the Gumbel-max trick
''',
    "build_char_model": '''def build_char_model(vocab_size, embed_dim, units, cell="gru"):
    layers = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "simple": keras.layers.SimpleRNN}
    return keras.Sequential([keras.Input(shape=(None,), dtype="int32"),
                             keras.layers.Embedding(vocab_size, embed_dim),
                             layers[cell](units, return_sequences=True),
                             keras.layers.Dense(vocab_size)])
''',
    "generate_text": '''def generate_text(model, char_to_id, id_to_char, seed_text, length, temperature, rng):
    text = seed_text
    while len(text) < len(seed_text) + length:
        ids = np.array([[char_to_id[c] for c in text]], dtype="int32")
        logits = model.predict(ids, verbose=0)[0][-1]
        text += id_to_char[sample_with_temperature(logits, temperature, rng)]
    return text
''',
    "train_char_model": '''def train_char_model(text, seq_len, embed_dim, units, epochs, seed):
    keras.utils.set_random_seed(seed)
    char_to_id, id_to_char = build_char_vocab(text)
    X, Y = make_sequences(np.array([char_to_id[c] for c in text]), seq_len)
    cut = int(0.9 * len(X))
    model = build_char_model(len(char_to_id), embed_dim, units, cell="gru")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(X[:cut], Y[:cut], validation_data=(X[cut:], Y[cut:]), batch_size=32, epochs=epochs,
                        shuffle=True, verbose=0)
    return model, char_to_id, id_to_char, history
''',
}

# One realistic bug per sample: {student: (function, old, new)}.
BUGS = {
    "step_no_bias": ("rnn_step_forward", "h_prev @ Wh + b)", "h_prev @ Wh)"),
    "step_backward_wrong_tanh": ("rnn_step_backward", "dh * (1.0 - h**2)", "dh * (1.0 - h)"),
    "forward_restarts_state": ("rnn_forward", "rnn_step_forward(x[:, t], h_t, Wx, Wh, b)",
                               "rnn_step_forward(x[:, t], h0, Wx, Wh, b)"),
    "bptt_no_carry": ("rnn_backward", "rnn_step_backward(dh[:, t] + dh_next, cache[t])",
                      "rnn_step_backward(dh[:, t], cache[t])"),
    "clip_each_alone": ("clip_by_global_norm", "    norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))\n"
                        "    scale = max_norm / norm if norm > max_norm else 1.0\n"
                        "    return [g * scale for g in grads]",
                        "    return [g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads]"),
    "vocab_by_appearance": ("build_char_vocab", "sorted(set(text))", "list(dict.fromkeys(text))"),
    "unshifted_targets": ("make_sequences", "ids[1:m * seq_len + 1]", "ids[:m * seq_len]"),
    "model_last_step_only": ("build_char_model", "recurrent(units, return_sequences=True)", "recurrent(units)"),
    "temperature_multiplies": ("sample_with_temperature", "z = logits / temperature", "z = logits * temperature"),
    "generate_first_position": ("generate_text", "model(np.array([ids])))[0, -1]", "model(np.array([ids])))[0, 0]"),
    "generate_from_last_character": ("generate_text", "model(np.array([ids])))[0, -1]",
                                     "model(np.array([ids[-1:]])))[0, -1]"),
    "train_loss_on_probabilities": ("train_char_model", "SparseCategoricalCrossentropy(from_logits=True)",
                                    "SparseCategoricalCrossentropy()"),
}


def samples(source):
    return with_bugs(source, OTHER_STYLE, BUGS)
