"""Sample submissions of `softmax` for `make demo` and the tests, as edits of the reference.

`samples(source)` gets {function: reference source} and returns {student: {function: cell source}}
(cells not named keep the reference; None means the blank release notebook). `BUGS` maps each
sample with one realistic bug to the function it is in.
"""
from autograder.samples import edited, with_bugs

# A correct solution written another way: loops, one-hot matrices, einsum, Sequential.
OTHER_STYLE = {
    "softmax": '''def softmax(z):
    z = np.array(z, dtype=np.float64)
    rows = z.reshape(-1, z.shape[-1])
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        e = np.exp(row - np.max(row))
        out[i] = e / np.sum(e)
    return out.reshape(z.shape)
''',
    "log_softmax": '''def log_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    m = np.max(z, axis=-1, keepdims=True)
    return z - (m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True)))
''',
    "cross_entropy": '''def cross_entropy(logits, labels):
    onehot = np.eye(logits.shape[1])[labels]
    return float(-np.sum(onehot * log_softmax(logits)) / logits.shape[0])
''',
    "cross_entropy_grad": '''def cross_entropy_grad(logits, labels):
    onehot = np.zeros_like(logits, dtype=np.float64)
    for i, label in enumerate(labels):
        onehot[i, label] = 1.0
    return (softmax(logits) - onehot) / logits.shape[0]
''',
    "softmax_loss_and_grad": '''def softmax_loss_and_grad(W, b, X, y, reg):
    scores = np.einsum("nd,dc->nc", X, W) + b[None, :]
    G = cross_entropy_grad(scores, y)
    dW = np.einsum("nd,nc->dc", X, G) + reg * W
    loss = cross_entropy(scores, y) + reg * np.sum(W * W) / 2
    return float(loss), dW, np.sum(G, axis=0)
''',
    "predict": '''def predict(W, b, X):
    return (X @ W + b).argmax(axis=-1)
''',
    "train_softmax_classifier": '''def train_softmax_classifier(X, y, n_classes, lr, epochs, reg, seed):
    W = 0.01 * np.random.default_rng(seed).normal(size=(X.shape[1], n_classes))
    b = np.zeros(n_classes)
    losses, epoch = [], 0
    while epoch < epochs:
        loss, dW, db = softmax_loss_and_grad(W, b, X, y, reg)
        losses.append(loss)
        W -= lr * dW
        b -= lr * db
        epoch += 1
    return W, b, losses
''',
    "build_keras_classifier": '''def build_keras_classifier(n_features, n_classes):
    return keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(n_classes)])
''',
}

# One realistic bug per sample: {student: (function, old, new)}.
BUGS = {
    "softmax_whole_array": ("softmax", "e / e.sum(axis=-1, keepdims=True)", "e / e.sum()"),
    "log_softmax_naive": ("log_softmax", "    shifted = z - z.max(axis=-1, keepdims=True)\n"
                          "    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))",
                          "    return np.log(np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True))"),
    "cross_entropy_sum": ("cross_entropy", "-np.mean(", "-np.sum("),
    "grad_without_mean": ("cross_entropy_grad", "return grad / len(labels)", "return grad"),
    "loss_grad_no_reg": ("softmax_loss_and_grad", "X.T @ dlogits + reg * W", "X.T @ dlogits"),
    "predict_flat_argmax": ("predict", "np.argmax(X @ W + b, axis=1)", "np.argmax(X @ W + b, axis=0)"),
    "train_loss_after_update": ("train_softmax_classifier",
                                "        losses.append(loss)\n        W, b = W - lr * dW, b - lr * db",
                                "        W, b = W - lr * dW, b - lr * db\n"
                                "        losses.append(softmax_loss_and_grad(W, b, X, y, reg)[0])"),
    "keras_softmax_output": ("build_keras_classifier", "keras.layers.Dense(n_classes)",
                             'keras.layers.Dense(n_classes, activation="softmax")'),
}

# Overflows at logits of 1e4 and is right everywhere else: only the stability check may fail.
OVERFLOWING_SOFTMAX = ("softmax", "np.exp(z - z.max(axis=-1, keepdims=True))", "np.exp(z)")


def samples(source):
    return {**with_bugs(source, OTHER_STYLE, BUGS), "overflow": edited(source, *OVERFLOWING_SOFTMAX)}
