"""Sample submissions of `textcnn` for `make demo` and the tests, as edits of the reference.

`samples(source)` gets {function: reference source} and returns {student: {function: cell source}}
(cells not named keep the reference; None means the blank release notebook). `BUGS` maps each
sample with one realistic bug to the function it is in.
"""
from autograder.samples import with_bugs

# A correct solution written another way: a character loop, explicit first-appearance order, list
# padding, MaxPooling1D over the whole length with branches concatenated in reverse, RMSprop, argmax in Keras.
OTHER_STYLE = {
    "tokenize": '''def tokenize(text):
    tokens, word = [], ""
    for ch in text.lower():
        if ch in "abcdefghijklmnopqrstuvwxyz0123456789'":
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ""
        if not ch.isspace():
            tokens.append(ch)
    return tokens + [word] if word else tokens
''',
    "build_vocab": '''def build_vocab(texts, max_size=None, min_count=1):
    counts, first = {}, {}
    for text in texts:
        for token in tokenize(text):
            counts[token] = counts.get(token, 0) + 1
            first.setdefault(token, len(first))
    kept = sorted((t for t in counts if counts[t] >= min_count), key=lambda t: (-counts[t], first[t]))
    vocab = {"<pad>": 0, "<unk>": 1}
    for token in kept:
        if max_size is not None and len(vocab) >= max_size:
            break
        vocab[token] = len(vocab)
    return vocab
''',
    "encode": '''def encode(texts, vocab, max_len):
    rows = []
    for text in texts:
        ids = [vocab[t] if t in vocab else vocab["<unk>"] for t in tokenize(text)]
        rows.append((ids + [0] * max_len)[:max_len])
    return np.array(rows, dtype=np.int32).reshape(len(texts), max_len)
''',
    "build_textcnn": '''def build_textcnn(vocab_size, max_len, embed_dim=128, filter_sizes=(3, 4, 5),
                  num_filters=100, dropout=0.5, num_classes=2):
    tokens = keras.Input(shape=(max_len,), dtype="int32", name="tokens")
    vectors = keras.layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)(tokens)
    branches = []
    for width in reversed(filter_sizes):
        maps = keras.layers.Conv1D(filters=num_filters, kernel_size=width, activation="relu")(vectors)
        branches.append(keras.layers.Flatten()(keras.layers.MaxPooling1D(pool_size=max_len - width + 1)(maps)))
    merged = keras.layers.Dropout(rate=dropout)(keras.layers.concatenate(branches, axis=-1))
    return keras.Model(inputs=tokens, outputs=keras.layers.Dense(num_classes, activation="softmax")(merged))
''',
    "train_textcnn": '''def train_textcnn(model, X, y, X_val, y_val, epochs, batch_size, seed):
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.RMSprop(), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    validation = {} if X_val is None else {"validation_data": (X_val, y_val)}
    history = model.fit(x=X, y=y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0, **validation)
    return history
''',
    "predict_sentiment": '''def predict_sentiment(model, texts, vocab, max_len):
    probabilities = model(encode(texts, vocab, max_len), training=False)
    return keras.ops.convert_to_numpy(keras.ops.argmax(probabilities, axis=-1)).astype(np.int64)
''',
}

# One realistic bug per sample: {student: (function, old, new)}.
BUGS = {
    "tokenize_drops_symbols": ("tokenize", r'''r"[a-z0-9']+|[^\sa-z0-9']"''', r'''r"[a-z0-9']+"'''),
    "vocab_ties_alphabetical": ("build_vocab", "key=lambda w: -counter[w]", "key=lambda w: (-counter[w], w)"),
    "encode_pads_left": ("encode", "ids[row, :len(tokens)] = tokens", "ids[row, max_len - len(tokens):] = tokens"),
    "textcnn_average_pooling": ("build_textcnn", "GlobalMaxPooling1D", "GlobalAveragePooling1D"),
    "textcnn_no_dropout": ("build_textcnn", "keras.layers.Dropout(dropout)(keras.layers.Concatenate()(pooled))",
                           "keras.layers.Concatenate()(pooled)"),
    "train_unseeded": ("train_textcnn", "    keras.utils.set_random_seed(seed)\n", ""),
    "predict_probabilities": ("predict_sentiment", "np.argmax(model.predict(encode(texts, vocab, max_len), verbose=0), "
                              "axis=-1)", "model.predict(encode(texts, vocab, max_len), verbose=0)"),
}

# Trains a thousand times longer than asked: past any time limit (the tests grade it with short limits).
SLOW_TRAINING = ("train_textcnn", "epochs=epochs,", "epochs=epochs * 1000,")


def samples(source):
    return with_bugs(source, OTHER_STYLE, BUGS)
