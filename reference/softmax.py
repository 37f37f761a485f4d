"""Reference solution of the `softmax` assignment (docs/assignments.md §2).

Each function's source is pasted into its solution cell to build the reference
notebook, so a function may use only `np`, `keras` and the other contract functions.
Only the Keras function imports Keras: the grader imports this module for its NumPy
functions, and a grading worker need not load TensorFlow (seconds of CPU) for them.
"""
import numpy as np


def softmax(z):
    """Softmax along the last axis; subtracting the row maximum keeps exp() from overflowing."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z):
    """log softmax(z) by the log-sum-exp trick: finite even where softmax underflows to 0."""
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[i, labels[i]]."""
    rows = np.arange(len(labels))
    return float(-np.mean(log_softmax(logits)[rows, labels]))


def cross_entropy_grad(logits, labels):
    """(softmax(logits) - onehot(labels)) / N: the gradient of the mean cross-entropy."""
    grad = softmax(logits)
    grad[np.arange(len(labels)), labels] -= 1.0
    return grad / len(labels)


def softmax_loss_and_grad(W, b, X, y, reg):
    """Loss and gradients of the L2-regularised linear softmax classifier."""
    logits = X @ W + b
    dlogits = cross_entropy_grad(logits, y)
    loss = cross_entropy(logits, y) + 0.5 * reg * np.sum(W**2)
    return float(loss), X.T @ dlogits + reg * W, dlogits.sum(axis=0)


def train_softmax_classifier(X, y, n_classes, lr, epochs, reg, seed):
    """Full-batch gradient descent; losses[i] is the loss before update i."""
    rng = np.random.default_rng(seed)
    W = 0.01 * rng.normal(size=(X.shape[1], n_classes))
    b = np.zeros(n_classes)
    losses = []
    for _ in range(epochs):
        loss, dW, db = softmax_loss_and_grad(W, b, X, y, reg)
        losses.append(loss)
        W, b = W - lr * dW, b - lr * db
    return W, b, losses


def predict(W, b, X):
    """The class with the largest logit (softmax is monotonic, so it need not be computed)."""
    return np.argmax(X @ W + b, axis=1)


def build_keras_classifier(n_features, n_classes):
    """One Dense layer without activation: the model outputs logits, like X @ W + b."""
    import keras
    inputs = keras.Input(shape=(n_features,))
    return keras.Model(inputs, keras.layers.Dense(n_classes)(inputs))
