"""Reference solution of the `word2vec` assignment (docs/assignments.md §3).

Each function's source is pasted into its solution cell to build the reference
notebook, so a function may use only the notebook's imports (`collections`,
`re`, `np`, `keras`) and the other contract functions. Those that use Keras import it themselves: the
grader loads this module to judge with, and TensorFlow only when a check trains or runs a model.
"""
import collections
import re

import numpy as np


def tokenize(text):
    """Lower-case words with apostrophes, in order: everything else separates them."""
    return re.findall(r"[a-z']+", text.lower())


def build_vocab(tokens, min_count=1):
    """Ids by descending count; a stable sort keeps first appearance among equal counts."""
    counter = collections.Counter(tokens)  # keys in order of first appearance
    words = sorted((w for w in counter if counter[w] >= min_count), key=lambda w: -counter[w])
    return {w: i for i, w in enumerate(words)}, np.array([counter[w] for w in words], dtype=np.int64)


def noise_distribution(counts, power=0.75):
    """Unigram counts raised to `power`, normalised: rare words are drawn more often than their share."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


def skipgram_pairs(ids, window):
    """Every (center, context) at offsets 1..window on either side, one offset at a time."""
    ids = np.asarray(ids)
    pairs = [np.empty((0, 2), dtype=np.int64)]
    for offset in range(1, window + 1):
        if offset < len(ids):
            left, right = ids[:-offset], ids[offset:]
            pairs += [np.stack([left, right], axis=1), np.stack([right, left], axis=1)]
    return np.concatenate(pairs).astype(np.int64)


def cbow_examples(ids, window):
    """The 2*window neighbours of every centre that has a full window, and the centres."""
    ids = np.asarray(ids, dtype=np.int64)
    centres = np.arange(window, len(ids) - window)
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    return ids[centres[:, None] + offsets].reshape(len(centres), 2 * window), ids[centres]


def naive_softmax_loss_and_grad(center_vec, outside_idx, outside_vectors):
    """-log softmax(U v)[o] and its gradients; the softmax is shifted by its max for stability."""
    scores = outside_vectors @ center_vec
    shifted = scores - scores.max()
    log_probs = shifted - np.log(np.exp(shifted).sum())
    delta = np.exp(log_probs)  # y_hat - y, once the one-hot y is subtracted below
    delta[outside_idx] -= 1.0
    return float(-log_probs[outside_idx]), outside_vectors.T @ delta, np.outer(delta, center_vec)


def neg_sampling_loss_and_grad(center_vec, outside_idx, outside_vectors, neg_indices):
    """-log s(u_o.v) - sum_k log s(-u_k.v) and its gradients; a repeated negative counts each time."""
    rows = np.concatenate([[outside_idx], np.asarray(neg_indices, dtype=np.int64)])
    signs = np.ones(len(rows))
    signs[1:] = -1.0
    margins = signs * (outside_vectors[rows] @ center_vec)  # -log s(m) = log(1 + exp(-m))
    loss = float(np.sum(np.logaddexp(0.0, -margins)))
    coef = -signs * np.exp(-np.logaddexp(0.0, margins))  # d loss / d(u_j.v) = -sign_j * s(-m_j)
    grad_outside = np.zeros_like(outside_vectors, dtype=np.float64)
    np.add.at(grad_outside, rows, np.outer(coef, center_vec))  # add.at: repeated rows accumulate
    return loss, coef @ outside_vectors[rows], grad_outside


def sample_negatives(noise, k, exclude, rng):
    """k independent draws from `noise` conditioned on not being `exclude` (renormalised)."""
    p = np.array(noise, dtype=np.float64)
    p[exclude] = 0.0
    return rng.choice(len(p), size=k, p=p / p.sum())


def build_skipgram_model(vocab_size, embed_dim, num_ns):
    """Two embedding tables; logits are the target's vector dotted with each context vector."""
    import keras
    target = keras.Input(shape=(), dtype="int32", name="target")
    context = keras.Input(shape=(num_ns + 1,), dtype="int32", name="context")
    target_vec = keras.layers.Embedding(vocab_size, embed_dim, name="target_embedding")(target)
    context_vecs = keras.layers.Embedding(vocab_size, embed_dim, name="context_embedding")(context)
    logits = keras.ops.einsum("bd,bcd->bc", target_vec, context_vecs)
    return keras.Model([target, context], logits, name="skipgram")


def train_word2vec(tokens, embed_dim, window, num_ns, epochs, seed):
    """Skip-gram with negative sampling: fresh negatives each epoch, label 1 for the true context only."""
    import keras
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    word_to_id, counts = build_vocab(tokens)
    pairs = skipgram_pairs([word_to_id[t] for t in tokens], window)
    noise = noise_distribution(counts)
    model = build_skipgram_model(len(counts), embed_dim, num_ns)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    labels = np.zeros((len(pairs), num_ns + 1), dtype=np.float32)
    labels[:, 0] = 1.0
    positives = pairs[:, 1:]
    for _ in range(epochs):
        negatives = rng.choice(len(noise), size=(len(pairs), num_ns), p=noise)
        clash = negatives == positives
        while clash.any():  # redraw a negative that hit the true context: noise without that word
            negatives[clash] = rng.choice(len(noise), size=int(clash.sum()), p=noise)
            clash = negatives == positives
        contexts = np.concatenate([positives, negatives], axis=1)
        model.fit([pairs[:, 0], contexts], labels, batch_size=256, epochs=1, shuffle=True, verbose=0)
    return model.get_layer("target_embedding").get_weights()[0], word_to_id


def most_similar(embeddings, word_to_id, word, topn=5):
    """The topn other words of highest cosine similarity with `word`, most similar first."""
    vectors = np.asarray(embeddings, dtype=np.float64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-300)
    query = word_to_id[word]
    similarity = unit @ unit[query]
    order = np.argsort(-similarity, kind="stable")
    id_to_word = {i: w for w, i in word_to_id.items()}
    return [(id_to_word[int(i)], float(similarity[i])) for i in order[order != query][:topn]]
