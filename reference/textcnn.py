"""Reference solution of the `textcnn` assignment (docs/assignments.md §5).

Each function's source is pasted into its solution cell to build the reference
notebook, so a function may use only the notebook's imports (`collections`,
`re`, `np`, `keras`) and the other contract functions. The two functions that need
Keras import it themselves: the judge calls only the text functions of this module,
so a grading worker never loads TensorFlow (about 9 s and 0.5 GB each).
"""
import collections
import re

import numpy as np


def tokenize(text):
    """Lower-case words (letters, digits, apostrophes), and every other non-space character on its own."""
    return re.findall(r"[a-z0-9']+|[^\sa-z0-9']", text.lower())


def build_vocab(texts, max_size=None, min_count=1):
    """Padding 0, unknown 1, then ids by descending count; a stable sort keeps first appearance among ties."""
    counter = collections.Counter(token for text in texts for token in tokenize(text))
    words = sorted((w for w in counter if counter[w] >= min_count), key=lambda w: -counter[w])
    if max_size is not None:
        words = words[:max(max_size - 2, 0)]
    return {"<pad>": 0, "<unk>": 1, **{w: i for i, w in enumerate(words, start=2)}}


def encode(texts, vocab, max_len):
    """Token ids right-padded with 0 and cut after `max_len` tokens; unknown tokens become 1."""
    ids = np.zeros((len(texts), max_len), dtype=np.int64)
    for row, text in enumerate(texts):
        tokens = [vocab.get(token, 1) for token in tokenize(text)][:max_len]
        ids[row, :len(tokens)] = tokens
    return ids


def build_textcnn(vocab_size, max_len, embed_dim=128, filter_sizes=(3, 4, 5), num_filters=100, dropout=0.5,
                  num_classes=2):
    """Kim (2014): parallel convolutions of several widths over the embedded words, each max-pooled over time."""
    import keras

    inputs = keras.Input(shape=(max_len,), dtype="int32")
    embedded = keras.layers.Embedding(vocab_size, embed_dim)(inputs)
    pooled = [keras.layers.GlobalMaxPooling1D()(keras.layers.Conv1D(num_filters, size, activation="relu")(embedded))
              for size in filter_sizes]
    features = keras.layers.Dropout(dropout)(keras.layers.Concatenate()(pooled))
    outputs = keras.layers.Dense(num_classes, activation="softmax")(features)
    return keras.Model(inputs, outputs)


def train_textcnn(model, X, y, X_val, y_val, epochs, batch_size, seed):
    """Adam on the cross-entropy of integer labels; the seed fixes the shuffling of the batches.
    `X_val` may be None: then there is no validation (Keras rejects validation_data=(None, None))."""
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    validation = None if X_val is None else (X_val, y_val)
    return model.fit(X, y, validation_data=validation, epochs=epochs, batch_size=batch_size, verbose=0)


def predict_sentiment(model, texts, vocab, max_len):
    """The most probable class of each text, encoded exactly as in training."""
    return np.argmax(model.predict(encode(texts, vocab, max_len), verbose=0), axis=-1)
