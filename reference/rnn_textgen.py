"""Reference solution of the `rnn_textgen` assignment (docs/assignments.md §4).

Each function's source is pasted into its solution cell to build the reference
notebook, so a function may use only `np`, `keras` and the other contract functions. Each imports Keras
itself: the grader loads this module to judge with, and TensorFlow only when a check trains or runs a model.
"""
import numpy as np


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One step of a vanilla RNN; the cache keeps what the backward step needs."""
    h = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h, (x, h_prev, Wx, Wh, h)


def rnn_step_backward(dh, cache):
    """Backward through tanh(x Wx + h_prev Wh + b): tanh' = 1 - h**2, then the two products."""
    x, h_prev, Wx, Wh, h = cache
    dz = dh * (1.0 - h**2)
    return dz @ Wx.T, dz @ Wh.T, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """Run the step over the T time steps of x (N, T, D), keeping every hidden state."""
    N, T, _ = x.shape
    h, caches, h_t = np.zeros((N, T, h0.shape[1])), [], h0
    for t in range(T):
        h_t, cache = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_t
        caches.append(cache)
    return h, caches


def rnn_backward(dh, cache):
    """Backpropagation through time: each step gets its own upstream gradient plus the next step's."""
    N, T, H = dh.shape
    _, _, Wx, Wh, _ = cache[0]
    dx, dWx, dWh, db = np.zeros((N, T, Wx.shape[0])), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_next, cache[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dh_next, dWx, dWh, db


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by one factor so that their joint L2 norm is at most max_norm."""
    norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))
    scale = max_norm / norm if norm > max_norm else 1.0
    return [g * scale for g in grads]


def build_char_vocab(text):
    """Ids in sorted character order, so the vocabulary does not depend on where characters first appear."""
    chars = sorted(set(text))
    return {c: i for i, c in enumerate(chars)}, dict(enumerate(chars))


def make_sequences(ids, seq_len):
    """Inputs and next-character targets: Y is X shifted one step to the left."""
    ids = np.asarray(ids)
    m = (len(ids) - 1) // seq_len
    return ids[:m * seq_len].reshape(m, seq_len), ids[1:m * seq_len + 1].reshape(m, seq_len)


def build_char_model(vocab_size, embed_dim, units, cell="gru"):
    """Embedding -> recurrent layer (one output per step) -> Dense logits over the vocabulary."""
    import keras
    recurrent = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM, "simple": keras.layers.SimpleRNN}[cell]
    inputs = keras.Input(shape=(None,), dtype="int32")
    hidden = recurrent(units, return_sequences=True)(keras.layers.Embedding(vocab_size, embed_dim)(inputs))
    return keras.Model(inputs, keras.layers.Dense(vocab_size)(hidden))


def sample_with_temperature(logits, temperature, rng):
    """Draw from softmax(logits / T): T < 1 sharpens, T > 1 flattens, T = 0 is the argmax."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


def generate_text(model, char_to_id, id_to_char, seed_text, length, temperature, rng):
    """Feed the text so far, sample the next character from the last step's logits, repeat."""
    import keras
    ids = [char_to_id[c] for c in seed_text]
    for _ in range(length):
        logits = keras.ops.convert_to_numpy(model(np.array([ids])))[0, -1]
        ids.append(sample_with_temperature(logits, temperature, rng))
    return "".join(id_to_char[i] for i in ids)


def train_char_model(text, seq_len, embed_dim, units, epochs, seed):
    """The recipe the grade is calibrated on, as the stub states it: keras.utils.set_random_seed(seed),
    build_char_vocab(text), the windows of make_sequences, build_char_model(V, embed_dim, units) (GRU),
    Adam(learning_rate=0.01) on sparse categorical cross-entropy from the logits, batch size 32, shuffled,
    `epochs` epochs (up to 10% of the windows may be held out for validation; the reference holds none)."""
    import keras
    keras.utils.set_random_seed(seed)
    char_to_id, id_to_char = build_char_vocab(text)
    X, Y = make_sequences([char_to_id[c] for c in text], seq_len)
    model = build_char_model(len(char_to_id), embed_dim, units)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(X, Y, batch_size=32, epochs=epochs, verbose=0, shuffle=True)
    return model, char_to_id, id_to_char, history
