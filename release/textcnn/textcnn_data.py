"""Sentiment data for the textcnn assignment.

- `make_reviews(n, seed)` (the default, offline): short movie reviews generated from a seed, in
  which the label hinges on what a negator ("not", "never", "hardly") or an intensifier ("very",
  "extremely") is attached to. Most reviews praise one thing and criticise another, so they all
  hold the same kinds of words; only their order says which side wins. A model that sees words
  one at a time (a bag of words, a CNN of width 1) stays near chance on those; width 2 or more
  reads "not good" and "very bad" as units.
- `load_mr()`, `load_sst2()`, `load_imdb()`: the standard sets of Kim (2014) and after, for a
  machine with internet. Each archive is downloaded once into a cache folder and checked against
  a pinned SHA-256 every time it is used.
"""
import hashlib
import io
import os
import shutil
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

POSITIVE = ["good", "great", "funny", "clever", "moving", "charming", "gripping", "stylish", "solid", "touching",
            "smart", "fresh"]
NEGATIVE = ["bad", "dull", "weak", "boring", "silly", "bland", "clumsy", "tedious", "messy", "shallow", "stale",
            "lazy"]
NEGATORS = ["not", "never", "hardly"]
INTENSIFIERS = ["very", "really", "extremely", "truly"]
SUBJECTS = ["the plot", "the acting", "the script", "the cast", "the ending", "the music", "the dialogue",
            "the direction", "this film", "the story", "the pacing", "the lead", "the humour", "the camera work"]
VERBS = ["is", "was", "feels", "seems", "looks"]
JOINERS = [", but", "and", ", while", "; yet", ", although"]
CODAS = ["", "", "", " overall", " to me", " in the end", " at times", " for a sequel"]
SINGLE_CLAUSE = 0.4  # the share of reviews with one clause; the others praise one thing and criticise another
NEGATED, INTENSIFIED = 0.35, 0.4  # how often a clause has a negator, an intensifier

# Standard sets: (URLs, SHA-256, size in bytes). The digests are those the Hugging Face `datasets`
# scripts pin for the same files (rotten_tomatoes, glue/sst2, imdb); they were not recomputed here.
MR = (["https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",
       "https://storage.googleapis.com/seldon-datasets/sentence_polarity_v1/rt-polaritydata.tar.gz"],
      "a05befe52aafda71d458d188a1c54506a998b1308613ba76bbda2e5029409ce9", 487770)
SST2 = (["https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"],
        "d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa", 7439277)
IMDB = (["https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"],
        "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe", 84125825)
CACHE_DIR = Path(os.environ.get("TEXTCNN_CACHE", Path.home() / ".cache" / "textcnn"))


def _pick(rng, options):
    return options[rng.integers(len(options))]


def _clause(rng, polarity):
    """One clause about one aspect, and its score: +-1, doubled by an intensifier, negated by a negator."""
    negated, intensified = rng.random(2) < (NEGATED, INTENSIFIED)
    words = [_pick(rng, SUBJECTS), _pick(rng, VERBS)]
    words += [_pick(rng, NEGATORS)] if negated else []
    words += [_pick(rng, INTENSIFIERS)] if intensified else []
    words.append(_pick(rng, POSITIVE if polarity > 0 else NEGATIVE))
    return " ".join(words), polarity * (2 if intensified else 1) * (-1 if negated else 1)


def _review(rng):
    """(text, score) of one review with a non-zero score."""
    while True:
        if rng.random() < SINGLE_CLAUSE:
            clauses = [_clause(rng, _pick(rng, (-1, 1)))]
        else:
            clauses = [_clause(rng, polarity) for polarity in _pick(rng, ((-1, 1), (1, -1)))]
        score = sum(s for _, s in clauses)
        if score != 0:
            text = f" {_pick(rng, JOINERS)} ".join(c for c, _ in clauses).replace(" ,", ",").replace(" ;", ";")
            return text + _pick(rng, CODAS) + _pick(rng, ".!."), score


def make_reviews(n, seed):
    """`n` generated reviews and their labels (1 positive, 0 negative), the same for the same seed."""
    rng = np.random.default_rng(seed)
    reviews = [_review(rng) for _ in range(n)]
    return [text for text, _ in reviews], np.array([int(score > 0) for _, score in reviews])


def sha256_of(path):
    """The hex SHA-256 of a file."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def fetch(source, cache_dir=CACHE_DIR):
    """The path of a pinned archive in `cache_dir`, downloaded (from the first URL that works) if missing or altered."""
    urls, sha256, size = source
    path = Path(cache_dir) / urls[0].rsplit("/", 1)[1]
    if path.is_file() and path.stat().st_size == size and sha256_of(path) == sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial, errors = path.with_name(path.name + ".part"), []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as error:
            errors.append(f"{url}: {error}")
            continue
        if sha256_of(partial) == sha256:
            return partial.replace(path)
        errors.append(f"{url}: SHA-256 {sha256_of(partial)} is not the pinned {sha256}")
    partial.unlink(missing_ok=True)
    raise OSError("could not fetch a verified copy:\n" + "\n".join(errors))


def load_mr(cache_dir=CACHE_DIR):
    """MR (Pang & Lee 2005): 10,662 one-sentence reviews, half positive. Kim (2014) used 10-fold cross-validation."""
    texts, labels = [], []
    with tarfile.open(fetch(MR, cache_dir)) as archive:
        for label, name in ((0, "rt-polaritydata/rt-polarity.neg"), (1, "rt-polaritydata/rt-polarity.pos")):
            lines = archive.extractfile(name).read().decode("latin-1").splitlines()
            texts += [line.strip() for line in lines if line.strip()]
            labels += [label] * sum(1 for line in lines if line.strip())
    return texts, np.array(labels)


def load_sst2(cache_dir=CACHE_DIR):
    """SST-2 as GLUE ships it: {"train": (texts, labels), "validation": (texts, labels)}; its test labels are hidden."""
    splits = {}
    with zipfile.ZipFile(fetch(SST2, cache_dir)) as archive:
        for split, name in (("train", "SST-2/train.tsv"), ("validation", "SST-2/dev.tsv")):
            rows = [line.rsplit("\t", 1) for line in io.TextIOWrapper(archive.open(name), encoding="utf-8")][1:]
            splits[split] = [text for text, _ in rows], np.array([int(label) for _, label in rows])
    return splits


def load_imdb(cache_dir=CACHE_DIR):
    """IMDB (Maas et al. 2011): {"train": (texts, labels), "test": (texts, labels)}, 25,000 long reviews each."""
    splits = {"train": ([], []), "test": ([], [])}
    with tarfile.open(fetch(IMDB, cache_dir)) as archive:
        for member in archive:
            parts = member.name.split("/")  # aclImdb/<split>/<pos|neg>/<id>_<rating>.txt
            if member.isfile() and len(parts) == 4 and parts[1] in splits and parts[2] in ("pos", "neg"):
                texts, labels = splits[parts[1]]
                texts.append(archive.extractfile(member).read().decode("utf-8").replace("<br />", " "))
                labels.append(int(parts[2] == "pos"))
    return {split: (texts, np.array(labels)) for split, (texts, labels) in splits.items()}
