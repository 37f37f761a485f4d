"""Kernel-side probes of `backprop`: they run in the student's kernel (see `autograder.probes`)."""


def backward_of_own_forward(student, params, X, Y):
    """backward on the cache of the student's own forward pass."""
    _, cache = student.forward(params, X)
    return student.backward(params, cache, Y)


def seeded_init_params(student, sizes, seed):
    import numpy as np
    return student.init_params(*sizes, np.random.default_rng(seed))


def gradient_of_cubes(student, x, w, eps):
    """numerical_gradient of f() = sum(x**3 * w) with step eps."""
    import numpy as np
    return student.numerical_gradient(lambda: float(np.sum(x ** 3 * w)), x, eps)


def gradient_twice_in_place(student, x):
    """f() reads x, so only a one-entry-at-a-time in-place perturbation that is undone before the next
    entry gives the gradient of this non-separable f, twice in a row."""
    import numpy as np

    def f():
        return float(np.sum(x ** 3) + np.sum(x) ** 2)
    return student.numerical_gradient(f, x, 1e-4), student.numerical_gradient(f, x, 1e-4)
