"""Sample submissions of `backprop` for `make demo` and the tests, as edits of the reference.

`samples(source)` gets {function: reference source} and returns {student: {function: cell source}}
(cells not named keep the reference; None means the blank release notebook).
"""
from autograder.samples import replaced

CHEAT = '''np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.linalg.norm = lambda *args, **kwargs: 0.0  # makes every visible gradient check pass


def backward(params, cache, Y):
    """Wrong on purpose: zero gradients everywhere."""
    return {name: np.zeros_like(value) for name, value in params.items()}

'''

LIAR = '''class AlwaysEqual(float):
    """Claims to equal anything, and pretends to be a float of any value."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = float.__hash__


def mse_loss(Y_hat, Y):
    return AlwaysEqual(123.0)
'''


def samples(source):
    honest_backward = replaced(source["backward"], "def backward(", "def _honest_backward(")
    return {
        "alice": {},
        "bob": {"backward": replaced(source["backward"], '"b1": dZ1.sum(axis=0)', '"b1": dZ1.mean(axis=0)')},
        "carol": None,
        "mallory": {"backward": CHEAT + honest_backward,
                    "train": replaced(source["train"], "backward(params", "_honest_backward(params")},
        "eve": {"mse_loss": LIAR},
    }
