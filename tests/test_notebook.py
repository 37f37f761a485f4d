"""Reading a submitted notebook: whatever is wrong with the file, the student's row names it."""
import pytest

from autograder import notebook


def test_a_notebook_gone_before_it_is_read_is_named_invalid_not_a_crash(tmp_path):
    """`grade` restores each submission as the pool takes it: one removed meanwhile costs only its own row."""
    with pytest.raises(notebook.InvalidNotebook, match=r"^backprop\.ipynb could not be read \(No such file"):
        notebook.load(tmp_path / "backprop.ipynb")
