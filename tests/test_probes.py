"""Probes and checks files, unit-tested in this process: the reference passes every check, and each
probe is sent as a self-contained function that reads only the contract functions it names."""
import importlib.util
import shutil
import subprocess
import sys
import types

import keras
import pytest

from autograder import course, judge, probes
from conftest import ROOT
from reference_student import ReferenceStudent


KERAS_TRAININGS = {"train_word2vec", "train_char_model", "train_textcnn"}  # graded end to end by the sample tests


@pytest.mark.parametrize("assignment_id", course.assignment_ids(ROOT))
def test_the_reference_passes_every_check_without_a_kernel(assignment_id):
    assignment = course.load(ROOT, assignment_id)
    untrained = [item for item in assignment.checks if not KERAS_TRAININGS & set(item.functions)]
    results, trips = judge.run_checks(untrained, ReferenceStudent(assignment.reference), seed=20261130)
    assert [(r.name, r.message) for r in results if r.points != r.max_points] == []
    assert trips == []


def load_probes(tmp_path, source, name="course_probes"):
    (tmp_path / f"{name}.py").write_text(source)
    spec = importlib.util.spec_from_file_location(name, tmp_path / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_a_probe_is_sent_with_its_helpers_and_reads_only_what_it_names(tmp_path):
    module = load_probes(tmp_path, '''
def scaled(value):
    return 2 * value


def doubled_softmax(student, z):
    return scaled(student.softmax(z)), student.log_softmax
''')
    found = probes.probe(module.doubled_softmax)
    assert found.reads == {"softmax", "log_softmax"}
    namespace = {"softmax": lambda z: z + 1, "log_softmax": None, "z": 3}  # what a kernel holds, and nothing else
    exec(found.code(["z"]), namespace)
    assert namespace["result"] == (8, None)


def test_a_probes_file_that_would_not_reach_the_kernel_whole_is_refused_by_file_and_line(tmp_path):
    module = load_probes(tmp_path, 'import numpy as np\n\n\ndef zeros(student, n):\n    return np.zeros(n)\n',
                         name="imports_probes")
    with pytest.raises(probes.ProbeError, match=r"imports_probes.py, line 1: a probes file holds only functions"):
        probes.validate(module)


def test_a_probe_that_reads_a_name_the_kernel_lacks_is_refused(tmp_path):
    module = load_probes(tmp_path, 'def sized(student, n):\n    return student.zeros(n * SIZE)\n\n\nSIZE = 3\n',
                         name="constant_probes")
    with pytest.raises(probes.ProbeError):  # the module-level constant is refused first, by line
        probes.validate(module)
    module = load_probes(tmp_path, 'def sized(student, n):\n    return student.zeros(n * SIZE)\n',
                         name="global_probes")
    with pytest.raises(probes.ProbeError, match="uses SIZE, which would not reach the kernel"):
        probes.probe(module.sized)


def test_a_check_left_out_of_checks_is_a_course_error_naming_it(tmp_path):
    shutil.copytree(ROOT / "assignments", tmp_path / "assignments")
    shutil.copytree(ROOT / "reference", tmp_path / "reference", ignore=shutil.ignore_patterns("__pycache__"))
    checks_file = tmp_path / "reference" / "backprop_checks.py"
    checks_file.write_text(checks_file.read_text() + '\n\n@check("test_sigmoid", points=0, functions=["sigmoid"])\n'
                                                     'def forgotten(student, rng):\n    pass\n')
    done = subprocess.run([sys.executable, "-c", "from pathlib import Path\nfrom autograder import course\n"
                           "course.load(Path('.'), 'backprop').checks"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1 and "must list each check of the file once (missing: ['forgotten']" in done.stderr


class SubclassedClassifier(keras.Model):
    """build_keras_classifier written as a subclassed model: its layers are built on the first call and have no
    single `input` to read a width from."""

    def __init__(self, n_classes):
        super().__init__()
        self.dense = keras.layers.Dense(n_classes)

    def call(self, x):
        return self.dense(x)


class SubclassedTextCNN(keras.Model):
    def __init__(self, vocab_size, max_len, embed_dim=128, filter_sizes=(3, 4, 5), num_filters=100, dropout=0.5,
                 num_classes=2):
        super().__init__()
        self.embedding = keras.layers.Embedding(vocab_size, embed_dim)
        self.convs = [keras.layers.Conv1D(num_filters, size, activation="relu") for size in filter_sizes]
        self.dropout = keras.layers.Dropout(dropout)
        self.classify = keras.layers.Dense(num_classes, activation="softmax")

    def call(self, ids, training=False):
        embedded = self.embedding(ids)
        pooled = keras.ops.concatenate([keras.ops.max(conv(embedded), axis=1) for conv in self.convs], axis=-1)
        return self.classify(self.dropout(pooled, training=training))


@pytest.mark.parametrize("assignment_id, function, model", [
    ("softmax", "build_keras_classifier", lambda n_features, n_classes: SubclassedClassifier(n_classes)),
    ("textcnn", "build_textcnn", SubclassedTextCNN)])
def test_a_correct_subclassed_keras_model_passes_the_model_checks(assignment_id, function, model):
    assignment = course.load(ROOT, assignment_id)
    student = types.SimpleNamespace(**{**vars(assignment.reference), function: model})
    checks = [item for item in assignment.checks if item.functions == (function,)]
    results, _ = judge.run_checks(checks, ReferenceStudent(student), seed=7)
    assert len(results) >= 2 and [(r.name, r.message) for r in results if r.points != r.max_points] == []
