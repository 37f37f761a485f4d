"""English text and evaluation data for the word2vec assignment.

- `load_lee_corpus()` (the default, offline): the Lee background corpus, about 60,000 words of
  Australian news, which gensim's wheel carries as test data. It is found without importing
  gensim, so gensim's code never runs.
- `load_text8(max_chars)`: text8, the standard word2vec benchmark (the first 10^8 characters of
  English Wikipedia, cleaned by Matt Mahoney: lower-case letters and spaces). It is downloaded
  once (31 MB) into a cache folder and checked against a pinned SHA-256 every time it is used.
- `load_wordsim353()`: WordSim-353, 353 word pairs with human similarity scores (from gensim's wheel).
"""
import hashlib
import importlib.util
import os
import shutil
import urllib.request
import zipfile
from pathlib import Path

TEXT8_URL = "http://mattmahoney.net/dc/text8.zip"
# SHA-256 of text8.zip (31,344,016 bytes), the digest that public projects downloading the same
# file pin; not recomputed here. If the server's file ever changed, load_text8 refuses it.
TEXT8_SHA256 = "a6640522afe85d1963ad56c05b0ede0a0c000dddc9671758a6cc09b7a38e5232"
CACHE_DIR = Path(os.environ.get("WORD2VEC_CACHE", Path.home() / ".cache" / "word2vec"))


def gensim_test_file(name):
    """The path of a data file in gensim's wheel (gensim/test/test_data), found without importing gensim."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the offline corpus ships with gensim: `pip install gensim`, or use load_text8()")
    path = Path(list(spec.submodule_search_locations)[0]) / "test" / "test_data" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not in this gensim installation; use load_text8() instead")
    return path


def load_lee_corpus():
    """The Lee background corpus as one string (300 news articles, one per line)."""
    return gensim_test_file("lee_background.cor").read_text(encoding="ascii")


def load_wordsim353():
    """WordSim-353 as a list of (word, word, human similarity from 0 to 10), lower-cased."""
    pairs = []
    for line in gensim_test_file("wordsim353.tsv").read_text(encoding="ascii").splitlines():
        if line.strip() and not line.startswith("#"):
            first, second, score = line.split("\t")
            pairs.append((first.lower(), second.lower(), float(score)))
    return pairs


def sha256_of(path):
    """The hex SHA-256 of a file."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def download(url, path, sha256):
    """Fetch `url` to `path` through a partial file, keeping it only if its SHA-256 is `sha256`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
        shutil.copyfileobj(response, out)
    actual = sha256_of(partial)
    if actual != sha256:
        partial.unlink()
        raise ValueError(f"{url} has SHA-256 {actual}, not the pinned {sha256}: refusing it")
    partial.replace(path)


def load_text8(max_chars=None, cache_dir=CACHE_DIR, sha256=TEXT8_SHA256):
    """The first `max_chars` characters of text8 (all 10^8 when None), downloading it once into `cache_dir`.

    A cached copy is used only if its SHA-256 is still the pinned one, so a truncated or altered
    file is fetched again instead of silently changing the corpus.
    """
    path = Path(cache_dir) / "text8.zip"
    if not path.is_file() or sha256_of(path) != sha256:
        download(TEXT8_URL, path, sha256)
    with zipfile.ZipFile(path) as archive, archive.open("text8") as member:
        return member.read(-1 if max_chars is None else max_chars).decode("ascii")
