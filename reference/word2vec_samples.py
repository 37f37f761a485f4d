"""Sample submissions of `word2vec` for `make demo` and the tests, as edits of the reference.

`samples(source)` gets {function: reference source} and returns {student: {function: cell source}}
(cells not named keep the reference; None means the blank release notebook). `BUGS` maps each
sample with one realistic bug to the function it is in.
"""
from autograder.samples import with_bugs

# A correct solution written another way: loops instead of slices, rejection sampling of the
# negatives, drawn once per pair with sample_negatives (not per epoch), a Dot layer, one fit call.
OTHER_STYLE = {
    "tokenize": '''def tokenize(text):
    letters = set("abcdefghijklmnopqrstuvwxyz'")
    return "".join(c if c in letters else " " for c in text.lower()).split()
''',
    "build_vocab": '''def build_vocab(tokens, min_count=1):
    counts, first = {}, {}
    for position, token in enumerate(tokens):
        counts[token] = counts.get(token, 0) + 1
        first.setdefault(token, position)
    kept = sorted((w for w in counts if counts[w] >= min_count), key=lambda w: (-counts[w], first[w]))
    return dict(zip(kept, range(len(kept)))), np.array([counts[w] for w in kept], dtype=int)
''',
    "noise_distribution": '''def noise_distribution(counts, power=0.75):
    weights = np.power(np.array(counts, dtype=float), power)
    return weights / np.sum(weights)
''',
    "skipgram_pairs": '''def skipgram_pairs(ids, window):
    pairs = []
    for i in range(len(ids)):
        for j in range(max(0, i - window), min(len(ids), i + window + 1)):
            if j != i:
                pairs.append((ids[i], ids[j]))
    return np.array(pairs, dtype=int).reshape(-1, 2)
''',
    "cbow_examples": '''def cbow_examples(ids, window):
    contexts, targets = [], []
    for i in range(window, len(ids) - window):
        contexts.append(list(ids[i - window:i]) + list(ids[i + 1:i + window + 1]))
        targets.append(ids[i])
    return np.array(contexts, dtype=int).reshape(-1, 2 * window), np.array(targets, dtype=int)
''',
    "naive_softmax_loss_and_grad": '''def naive_softmax_loss_and_grad(center_vec, outside_idx, outside_vectors):
    scores = np.einsum("wd,d->w", outside_vectors, center_vec)
    top = np.max(scores)
    log_norm = top + np.log(np.sum(np.exp(scores - top)))
    y_hat = np.exp(scores - log_norm)
    y = np.zeros_like(y_hat)
    y[outside_idx] = 1.0
    return log_norm - scores[outside_idx], np.einsum("wd,w->d", outside_vectors, y_hat - y), \\
        np.einsum("w,d->wd", y_hat - y, center_vec)
''',
    "neg_sampling_loss_and_grad": '''\
def neg_sampling_loss_and_grad(center_vec, outside_idx, outside_vectors, neg_indices):
    def log_sigmoid(x):
        return -np.logaddexp(0.0, -x)

    u_o = outside_vectors[outside_idx]
    loss = -log_sigmoid(u_o @ center_vec)
    grad_center = -np.exp(log_sigmoid(-(u_o @ center_vec))) * u_o
    grad_outside = np.zeros(outside_vectors.shape)
    grad_outside[outside_idx] = -np.exp(log_sigmoid(-(u_o @ center_vec))) * center_vec
    for k in neg_indices:
        score = outside_vectors[k] @ center_vec
        loss -= log_sigmoid(-score)
        grad_center += np.exp(log_sigmoid(score)) * outside_vectors[k]
        grad_outside[k] += np.exp(log_sigmoid(score)) * center_vec
    return loss, grad_center, grad_outside
''',
    "sample_negatives": '''def sample_negatives(noise, k, exclude, rng):
    draws = []
    while len(draws) < k:
        candidate = rng.choice(len(noise), p=noise)
        if candidate != exclude:
            draws.append(candidate)
    return np.array(draws, dtype=int)
''',
    "build_skipgram_model": '''def build_skipgram_model(vocab_size, embed_dim, num_ns):
    words = keras.Input(shape=(), dtype="int64")
    candidates = keras.Input(shape=(num_ns + 1,), dtype="int64")
    centre = keras.layers.Reshape((1, embed_dim))(keras.layers.Embedding(vocab_size, embed_dim)(words))
    outside = keras.layers.Embedding(vocab_size, embed_dim)(candidates)
    dots = keras.layers.Dot(axes=2)([centre, outside])
    return keras.Model(inputs=[words, candidates], outputs=keras.layers.Flatten()(dots))
''',
    "train_word2vec": '''def train_word2vec(tokens, embed_dim, window, num_ns, epochs, seed):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    word_to_id, counts = build_vocab(tokens)
    noise = noise_distribution(counts)
    pairs = skipgram_pairs(np.array([word_to_id[t] for t in tokens]), window)
    model = build_skipgram_model(len(word_to_id), embed_dim, num_ns)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    contexts = np.array([[context, *sample_negatives(noise, num_ns, context, rng)] for _, context in pairs])
    labels = np.array([[1.0] + [0.0] * num_ns] * len(pairs))
    model.fit([pairs[:, 0], contexts], labels, batch_size=256, epochs=epochs, verbose=0)
    first_table = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)][0]
    return np.array(first_table.get_weights()[0]), word_to_id
''',
    "most_similar": '''def most_similar(embeddings, word_to_id, word, topn=5):
    query = embeddings[word_to_id[word]]
    scored = []
    for other, i in word_to_id.items():
        if other != word:
            vector = embeddings[i]
            scored.append((other, float(vector @ query / (np.linalg.norm(vector) * np.linalg.norm(query)))))
    return sorted(scored, key=lambda item: -item[1])[:topn]
''',
}

TWO_TABLES = ('    target_vec = keras.layers.Embedding(vocab_size, embed_dim, name="target_embedding")(target)\n'
              '    context_vecs = keras.layers.Embedding(vocab_size, embed_dim, name="context_embedding")(context)\n')
ONE_SHARED_TABLE = ('    table = keras.layers.Embedding(vocab_size, embed_dim, name="target_embedding")\n'
                    '    target_vec, context_vecs = table(target), table(context)\n')

# One realistic bug per sample: {student: (function, old, new)}.
BUGS = {
    "uniform_negatives": ("train_word2vec", "size=(len(pairs), num_ns), p=noise)", "size=(len(pairs), num_ns))"),
    "tokenize_drops_apostrophes": ("tokenize", "[a-z']+", "[a-z]+"),
    "vocab_ties_alphabetical": ("build_vocab", "key=lambda w: -counter[w]", "key=lambda w: (-counter[w], w)"),
    "noise_without_power": ("noise_distribution", "np.asarray(counts, dtype=np.float64) ** power",
                            "np.asarray(counts, dtype=np.float64)"),
    "pairs_right_only": ("skipgram_pairs", ", np.stack([right, left], axis=1)]", "]"),
    "cbow_off_by_one": ("cbow_examples", "np.arange(window, len(ids) - window)",
                        "np.arange(window, len(ids) - window - 1)"),
    "softmax_grad_sign": ("naive_softmax_loss_and_grad", "outside_vectors.T @ delta", "-outside_vectors.T @ delta"),
    "neg_repeats_once": ("neg_sampling_loss_and_grad", "np.add.at(grad_outside, rows, np.outer(coef, center_vec))",
                         "grad_outside[rows] += np.outer(coef, center_vec)"),
    "sampler_keeps_exclude": ("sample_negatives", "    p[exclude] = 0.0\n", ""),
    "model_one_table": ("build_skipgram_model", TWO_TABLES, ONE_SHARED_TABLE),
    "train_negatives_as_positives": ("train_word2vec", "labels = np.zeros(", "labels = np.ones("),
    "similar_includes_query": ("most_similar", "order[order != query][:topn]", "order[:topn]"),
}


def samples(source):
    return with_bugs(source, OTHER_STYLE, BUGS)
