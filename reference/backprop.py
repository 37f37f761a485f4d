"""Reference solution of the `backprop` assignment (docs/assignments.md §1).

Each function's source is pasted into its solution cell to build the reference
notebook, so a function may use only `np` and the other contract functions.
"""
import numpy as np


def sigmoid(x):
    """Elementwise logistic function, without overflow for large |x|."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(s):
    """Derivative of the sigmoid, written through its output s = sigmoid(x)."""
    return s * (1.0 - s)


def init_params(n_in, n_hidden, n_out, rng):
    """Weights with variance 1/fan_in (W1 drawn before W2), zero biases."""
    W1 = rng.normal(0.0, np.sqrt(1.0 / n_in), (n_in, n_hidden))
    W2 = rng.normal(0.0, np.sqrt(1.0 / n_hidden), (n_hidden, n_out))
    return {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(n_out)}


def forward(params, X):
    """Two sigmoid layers; the cache keeps what the backward pass needs."""
    H = sigmoid(X @ params["W1"] + params["b1"])
    Y_hat = sigmoid(H @ params["W2"] + params["b2"])
    return Y_hat, (X, H, Y_hat)


def mse_loss(Y_hat, Y):
    """Mean of the squared errors over every element."""
    return float(np.mean((Y_hat - Y) ** 2))


def backward(params, cache, Y):
    """Chain rule from the loss back to every parameter."""
    X, H, Y_hat = cache
    dZ2 = 2.0 * (Y_hat - Y) / Y_hat.size * sigmoid_grad(Y_hat)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid_grad(H)
    return {
        "W1": X.T @ dZ1,
        "b1": dZ1.sum(axis=0),
        "W2": H.T @ dZ2,
        "b2": dZ2.sum(axis=0),
    }


def numerical_gradient(f, x, eps=1e-5):
    """Centred differences of the scalar f() with respect to x, perturbed in place."""
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        f_plus = f()
        x[index] = original - eps
        f_minus = f()
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def sgd_update(params, grads, lr):
    """One gradient-descent step, returning a new dict."""
    return {name: value - lr * grads[name] for name, value in params.items()}


def train(X, Y, n_hidden, lr, epochs, seed):
    """Full-batch gradient descent; losses[i] is the loss before update i."""
    params = init_params(X.shape[1], n_hidden, Y.shape[1], np.random.default_rng(seed))
    losses = []
    for _ in range(epochs):
        Y_hat, cache = forward(params, X)
        losses.append(mse_loss(Y_hat, Y))
        params = sgd_update(params, backward(params, cache, Y), lr)
    return params, losses
