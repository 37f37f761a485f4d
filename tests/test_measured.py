"""Reference measurements are made once per version of the course's hidden files, libraries and device
kind, and concurrent workers wait for the first one's figure instead of measuring again."""
import os
import subprocess
import sys

from conftest import ROOT

MEASUREMENT = '''
import os, time

def reference_figure(n):
    with open(os.environ["COUNT_FILE"], "a") as stream:
        stream.write("measured\\n")
    time.sleep(1)
    return n / 2
'''
CALL = '''
import importlib.util, sys
from autograder.measured import measured_once
spec = importlib.util.spec_from_file_location("measurement", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(measured_once(module.reference_figure)(7))
'''


def _measure_in(count, path, env, workers=1):
    runs = [subprocess.Popen([sys.executable, "-c", CALL, str(path)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             text=True) for _ in range(workers)]
    outputs = [run.communicate(timeout=120)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    return outputs, count.read_text().count("measured")


def test_measured_once_per_version_and_device_kind(tmp_path):
    folder = tmp_path / "reference"
    folder.mkdir()
    path = folder / "measurement.py"
    path.write_text(MEASUREMENT)
    count = tmp_path / "count"
    count.touch()
    env = {**os.environ, "COUNT_FILE": str(count), "AUTOGRADER_CACHE": str(tmp_path / "cache")}
    env.pop("KERAS_BACKEND", None)
    assert _measure_in(count, path, env, workers=2) == (["3.5", "3.5"], 1)  # two at once: one measures
    assert _measure_in(count, path, env) == (["3.5"], 1)  # a later run reads it
    (folder / "data.txt").write_text("new hidden data")
    assert _measure_in(count, path, env) == (["3.5"], 2)  # the hidden files changed
    assert _measure_in(count, path, {**env, "KERAS_BACKEND": "jax"}) == (["3.5"], 3)  # another backend
