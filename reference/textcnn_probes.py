"""Kernel-side probes of `textcnn`: they run in the student's kernel (see `autograder.probes`)."""
from autograder.keras_probes import describe_model, inner_layers


def grader_model(vocab_size, max_len, embed_dim, num_classes):
    """A model of the grader's own (not the reference's), for checking predict_sentiment and train_textcnn apart
    from build_textcnn. Flatten makes its output depend on where each token sits."""
    import keras
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(max_len,), dtype="int32")
    hidden = keras.layers.Flatten()(keras.layers.Embedding(vocab_size, embed_dim)(inputs))
    outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Dropout(0.3)(hidden))
    return keras.Model(inputs, outputs)


def built(student, sizes):
    """The student's build_textcnn on the grader's sizes."""
    return student.build_textcnn(sizes["vocab_size"], sizes["max_len"], sizes["embed_dim"], sizes["filter_sizes"],
                                 sizes["num_filters"], sizes["dropout"], sizes["num_classes"])


def textcnn(student, sizes):
    """The model of build_textcnn, described for `checks.expect_model`."""
    import numpy as np
    return describe_model(built(student, sizes), [np.zeros((3, sizes["max_len"]), "int32")])


def outputs_with_weights(student, sizes, ids, table, kernels, biases, W, b):
    """The model's inference outputs once its layers hold the grader's weights (None if they cannot be set)."""
    import keras
    model = built(student, sizes)
    model(ids, training=False)  # builds a subclassed model's layers, so that their weights can be set
    layers = list(inner_layers(model))
    embeddings = [layer for layer in layers if isinstance(layer, keras.layers.Embedding)]
    convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv1D)]
    denses = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    filter_sizes = list(sizes["filter_sizes"])
    if len(embeddings) != 1 or len(denses) != 1 or sorted(int(c.kernel_size[0]) for c in convs) != filter_sizes:
        return None
    embeddings[0].set_weights([table])
    for conv in convs:
        position = filter_sizes.index(int(conv.kernel_size[0]))
        conv.set_weights([kernels[position], biases[position]])
    denses[0].set_weights([W, b])
    return keras.ops.convert_to_numpy(model(ids, training=False))


def outputs_twice_each_mode(student, sizes, ids):
    """Two calls in inference mode, then two in training mode."""
    import keras
    model = built(student, sizes)
    return [keras.ops.convert_to_numpy(model(ids, training=training)) for training in (False, False, True, True)]


def predictions_of_grader_model(student, sizes, weights, texts, vocab):
    """predict_sentiment on the grader's model holding the grader's weights."""
    model = grader_model(sizes["vocab_size"], sizes["max_len"], sizes["embed_dim"], sizes["num_classes"])
    model.set_weights(weights)
    return student.predict_sentiment(model, texts, vocab, sizes["max_len"])


def fit_of_grader_model(student, sizes, X, y, X_val, y_val, epochs, batch_size, seed, probabilities):
    """What train_textcnn returns and how it compiled the grader's model (its loss on given probabilities)."""
    import keras
    model = grader_model(sizes["vocab_size"], sizes["max_len"], sizes["embed_dim"], sizes["num_classes"])
    history = student.train_textcnn(model, X, y, X_val, y_val, epochs, batch_size, seed)
    logs = getattr(history, "history", None)
    loss = model.compute_loss(x=X[:8], y=y[:8], y_pred=probabilities)
    return {"type": type(history).__name__, "params": dict(getattr(history, "params", None) or {}),
            "lengths": {str(k): len(v) for k, v in logs.items()} if isinstance(logs, dict) else None,
            "loss": float(keras.ops.convert_to_numpy(loss))}


def seeded_trainings(student, sizes, X, y, X_val, y_val, runs):
    """The grader's model trained once per (seed, other global seed) of `runs`; its outputs on X_val each time."""
    import keras
    outputs = []
    for train_seed, other in runs:
        model = grader_model(sizes["vocab_size"], sizes["max_len"], sizes["embed_dim"], sizes["num_classes"])
        keras.utils.set_random_seed(other)  # global state that train_textcnn's own seed must override
        student.train_textcnn(model, X, y, X_val, y_val, 2, 16, train_seed)
        outputs.append(keras.ops.convert_to_numpy(model(X_val, training=False)))
    return outputs


def trained_predictions(student, X, y, X_val, y_val, X_test, vocab_size, max_len, settings, epochs, batch_size,
                        seed):
    """Build and train the student's TextCNN on the grader's reviews; its probabilities on the test reviews, and
    the losses of the History it returned (for the student to see)."""
    import keras
    X, y, X_val, y_val, X_test = (a.astype("int32") for a in (X, y, X_val, y_val, X_test))
    keras.utils.set_random_seed(seed)
    model = student.build_textcnn(vocab_size, max_len, **settings)
    history = student.train_textcnn(model, X, y, X_val, y_val, epochs, batch_size, seed)
    try:
        losses = {name: [float(v) for v in history.history[name]] for name in ("loss", "val_loss")}
    except Exception:  # not a History with both: nothing to draw
        losses = {}
    return keras.ops.convert_to_numpy(model.predict(X_test, verbose=0)), losses
