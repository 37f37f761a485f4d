"""Hidden checks of the `word2vec` assignment: every verdict is reached here, against the reference."""
import numpy as np

from autograder.checks import (Fail, against_pass_line, as_array, as_float, as_ids, as_tuple, as_vocab, check,
                               draw_seed, expect_close, expect_distribution, expect_gradient, expect_layers,
                               expect_model, expect_named, expect_outputs, expect_same_rows, expect_tokens, table)
from reference import word2vec as ref
from reference import word2vec_probes as probes

LETTERS = "abcdefghijklmnopqrstuvwxyz"
TEXT_PIECES = ["The", "cat's", "whiskers", "DON'T", "rock'n'roll", "e-mail", "U.S.A.", "42", "x2y", "'quoted'",
               "Hello,", "world!", "naïve", "café", "tab\there", "new\nline", "--", "O'Brien", "it's", "3.14"]
TRAIN_SETTINGS = {"embed_dim": 16, "window": 2, "num_ns": 4, "epochs": 10}
TRAIN_USES = ["train_word2vec", "build_vocab", "skipgram_pairs", "noise_distribution", "build_skipgram_model"]
PLANTED_PRECISION = 0.8  # the reference recovers every planted group (precision 1.0) on these corpora
# On hub corpora, over 44 runs of the reference and of correct variants (negatives drawn once, or without
# excluding the true context): 0.23-0.43; uniform negatives: 0.49-0.55 (0.57-0.61 with both of those too).
LONELY_SIMILARITY = 0.47
SAMPLER_CALLS, SAMPLER_K = 4000, 6
OWN_LOSSES = {"naive_softmax_loss_and_grad": probes.naive_softmax_losses,
              "neg_sampling_loss_and_grad": probes.neg_sampling_losses}

# ---------------------------------------------------------------- inputs drawn from the grader's rng

def random_text(rng):
    """Words, apostrophes, capitals, digits, punctuation and accents, in a random order."""
    pieces = rng.choice(TEXT_PIECES, size=int(rng.integers(15, 30)))
    return " ".join(str(p) for p in pieces)


def random_tokens(rng, n_types, length):
    """A token list with a skewed distribution, so that some counts tie and others do not."""
    words = [random_word(rng) for _ in range(n_types)]
    weights = 1.0 / np.arange(1, n_types + 1)
    return [words[i] for i in rng.choice(n_types, size=length, p=weights / weights.sum())]


def random_word(rng, alphabet=LETTERS + "'", lengths=(1, 6)):
    """A random string over `alphabet`, lengths[0] to lengths[1] - 1 characters long."""
    return "".join(rng.choice(list(alphabet), size=int(rng.integers(*lengths))))


def random_loss_inputs(rng):
    """(center_vec, outside_idx, outside_vectors) of random sizes."""
    vocab_size, dim = int(rng.integers(5, 10)), int(rng.integers(3, 6))
    return rng.normal(size=dim), int(rng.integers(vocab_size)), rng.normal(size=(vocab_size, dim))


def random_negatives(rng, vocab_size, outside_idx, k):
    """k negatives other than outside_idx, with the first one repeated at least once."""
    negatives = rng.choice(np.delete(np.arange(vocab_size), outside_idx), size=k)
    negatives[-1] = negatives[0]
    return negatives


def noise_with_a_heavy_word(rng, vocab_size):
    """A Zipf-like noise distribution; its heaviest word is the one to exclude."""
    weights = (1.0 / np.arange(1, vocab_size + 1)) ** 0.75
    return rng.permutation(weights / weights.sum())


def planted_words(rng, groups, members, cues, others):
    """Distinct random words: the members of each group, the cue words of each group, and `others` more."""
    words = []
    while len(words) < groups * (members + cues) + others:
        word = random_word(rng, LETTERS, (4, 8))
        if word not in words:
            words.append(word)
    member_words = [words[g * members:(g + 1) * members] for g in range(groups)]
    cue_words = [words[groups * members + g * cues:groups * members + (g + 1) * cues] for g in range(groups)]
    return member_words, cue_words, words[groups * (members + cues):]


def planted_sentence(rng, member_words, cue_words, filler_words, group):
    """`cue member cue filler` for one group."""
    before, after = rng.choice(cue_words[group], size=2)
    return [str(before), str(rng.choice(member_words[group])), str(after), str(rng.choice(filler_words))]


def planted_corpus(rng, groups=5, members=4, cues=4, fillers=6, sentences=600):
    """Sentences `cue member cue filler`: members of a group share their cues and no other group's.

    Returns the tokens and the member words of each group.
    """
    member_words, cue_words, filler_words = planted_words(rng, groups, members, cues, fillers)
    tokens = []
    for group in rng.integers(groups, size=sentences):
        tokens += planted_sentence(rng, member_words, cue_words, filler_words, group)
    return tokens, member_words


def hub_corpus(rng, groups=5, members=4, cues=4, fillers=6, sentences=500, lonely=3, hub_sentences=600):
    """planted_corpus's sentences, shuffled among sentences `hub hub x hub hub`: one very frequent hub word
    (like "the", about a third of the tokens) and `lonely` words x seen only next to it.

    Returns the tokens, the lonely words and the hub.
    """
    member_words, cue_words, rest = planted_words(rng, groups, members, cues, fillers + 1 + lonely)
    filler_words, hub, lonely_words = rest[:fillers], rest[fillers], rest[fillers + 1:]
    kinds = np.array([0] * sentences + [1] * hub_sentences)
    rng.shuffle(kinds)
    tokens = []
    for kind in kinds:
        if kind == 0:
            tokens += planted_sentence(rng, member_words, cue_words, filler_words, int(rng.integers(groups)))
        else:
            tokens += [hub, hub, str(rng.choice(lonely_words)), hub, hub]
    return tokens, lonely_words, hub


def lonely_similarity(embeddings, word_to_id, lonely_words, hub):
    """Mean cosine between the lonely words and every word other than them and the hub."""
    vectors = np.asarray(embeddings, dtype=np.float64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-300)
    lonely = [word_to_id[w] for w in lonely_words]
    rest = np.setdiff1d(np.arange(len(unit)), lonely + [word_to_id[hub]])
    return float((unit[lonely] @ unit[rest].T).mean())


def planted_precision(embeddings, word_to_id, member_words):
    """Mean share of each member word's nearest neighbours (by cosine, over the whole vocabulary) in its group."""
    shares = []
    for group in member_words:
        for word in group:
            neighbours = [w for w, _ in ref.most_similar(embeddings, word_to_id, word, len(group) - 1)]
            shares.append(np.mean([w in group for w in neighbours]))
    return float(np.mean(shares))


# ---------------------------------------------------------------- reading the student's values

def as_shapes(value, what):
    """The list of array shapes a probe reported, as tuples, or Fail."""
    if not isinstance(value, list) or not all(isinstance(shape, (list, tuple)) for shape in value):
        raise Fail(f"{what} could not be read")
    return [tuple(shape) for shape in value]


def vocab(student, tokens, *min_count):
    """The student's (word_to_id, counts) from build_vocab."""
    got = as_tuple(student.build_vocab(tokens, *min_count), 2, "build_vocab")
    return as_vocab(got[0], "word_to_id"), as_array(got[1], "counts")


def loss_and_grads(student, function, args):
    """The student's (loss, grad_center_vec, grad_outside_vectors), checked for shape."""
    got = as_tuple(getattr(student, function)(*args), 3, function)
    return (as_float(got[0], f"the loss of {function}"), as_array(got[1], "grad_center_vec", args[0].shape),
            as_array(got[2], "grad_outside_vectors", args[2].shape))


def expect_loss_and_grads(student, function, args):
    """Fail unless the student's loss and both gradients agree with the reference's."""
    expect_named(loss_and_grads(student, function, args), getattr(ref, function)(*args),
                 ("the loss", "grad_center_vec", "grad_outside_vectors"), function)


def expect_passes_gradient_check(student, function, args):
    """Fail unless both gradients are those of the student's own loss (a wrong-sign loss passes this)."""
    _, grad_center, grad_outside = loss_and_grads(student, function, args)
    for position, grad, name in ((0, grad_center, "grad_center_vec"), (2, grad_outside, "grad_outside_vectors")):
        def own_losses(points, position=position):
            got = student.probe(OWN_LOSSES[function], points=[(*args[:position], point, *args[position + 1:])
                                                              for point in points])
            if not isinstance(got, list) or len(got) != len(points):
                raise Fail(f"{function} did not return one loss per call")
            return [as_float(value, f"the loss of {function}") for value in got]
        expect_gradient(grad, own_losses, args[position], name, batched=True)


def sampled(student, noise, exclude, rng):
    """Many draws of the student's sample_negatives from one generator seeded by the grader."""
    got = student.probe(probes.negatives_drawn, noise=noise, k=SAMPLER_K, exclude=exclude, calls=SAMPLER_CALLS,
                        seed=draw_seed(rng))
    if not isinstance(got, list) or len(got) != SAMPLER_CALLS:
        raise Fail("sample_negatives did not return one array per call")
    what = "sample_negatives(noise, k, exclude, rng)"
    return np.concatenate([as_ids(as_array(value, what, (SAMPLER_K,)), what, len(noise)) for value in got])


def model_inputs(rng):
    """Random sizes for build_skipgram_model and a batch of ids to feed it."""
    vocab_size, embed_dim, num_ns, batch = (int(n) for n in rng.integers([20, 3, 2, 5], [60, 9, 7, 11]))
    return {"vocab_size": vocab_size, "embed_dim": embed_dim, "num_ns": num_ns,
            "target": rng.integers(vocab_size, size=batch).astype(np.int32),
            "context": rng.integers(vocab_size, size=(batch, num_ns + 1)).astype(np.int32)}


# ---------------------------------------------------------------- the checks

@check("test_tokenize", points=4, functions=["tokenize"])
def tokenize_matches_reference(student, rng):
    text = random_text(rng)
    expect_tokens(student.tokenize(text), ref.tokenize(text), "tokenize(text)")


@check("test_build_vocab", points=4, functions=["build_vocab"])
def build_vocab_matches_reference(student, rng):
    tokens = random_tokens(rng, int(rng.integers(8, 15)), int(rng.integers(30, 60)))
    word_to_id, counts = vocab(student, tokens)
    expected_ids, expected_counts = ref.build_vocab(tokens)
    if set(word_to_id) != set(expected_ids):
        raise Fail("build_vocab(tokens) does not have one entry per distinct token")
    if word_to_id != expected_ids:
        raise Fail("build_vocab(tokens) numbers the words in the wrong order (by descending count, "
                   "ties by first appearance)")
    expect_close(counts, expected_counts, "counts of build_vocab(tokens)")


@check("test_build_vocab", points=2, functions=["build_vocab"])
def build_vocab_drops_rare_words(student, rng):
    tokens, min_count = random_tokens(rng, 12, 50), int(rng.integers(2, 4))
    word_to_id, counts = vocab(student, tokens, min_count)
    expected_ids, expected_counts = ref.build_vocab(tokens, min_count)
    if word_to_id != expected_ids:
        raise Fail(f"build_vocab(tokens, min_count={min_count}) keeps the wrong words or numbers them wrongly")
    expect_close(counts, expected_counts, f"counts of build_vocab(tokens, min_count={min_count})")


@check("test_noise_distribution", points=2, functions=["noise_distribution"])
def noise_distribution_default_power(student, rng):
    counts = rng.integers(1, 1000, size=int(rng.integers(5, 20)))
    expect_close(student.noise_distribution(counts), ref.noise_distribution(counts),
                 "noise_distribution(counts) with the default power")


@check("test_noise_distribution", points=2, functions=["noise_distribution"])
def noise_distribution_given_power(student, rng):
    counts, power = rng.integers(1, 1000, size=int(rng.integers(5, 20))), float(rng.uniform(0.1, 1.5))
    expect_close(student.noise_distribution(counts, power), ref.noise_distribution(counts, power),
                 f"noise_distribution(counts, power={power:.3f})")


@check("test_skipgram_pairs", points=4, functions=["skipgram_pairs"])
def skipgram_pairs_match_reference(student, rng):
    ids, window = rng.integers(0, 12, size=int(rng.integers(8, 30))), int(rng.integers(1, 5))
    expect_same_rows(student.skipgram_pairs(ids, window), ref.skipgram_pairs(ids, window),
                f"skipgram_pairs(ids, {window})")


@check("test_skipgram_pairs", points=2, functions=["skipgram_pairs"])
def skipgram_pairs_window_wider_than_the_text(student, rng):
    ids = rng.permutation(20)[:int(rng.integers(2, 5))]
    expect_same_rows(student.skipgram_pairs(ids, 6), ref.skipgram_pairs(ids, 6),
                f"skipgram_pairs of {len(ids)} ids with window 6")


@check("test_cbow_examples", points=6, functions=["cbow_examples"])
def cbow_examples_match_reference(student, rng):
    window = int(rng.integers(1, 4))
    ids = rng.integers(0, 15, size=int(rng.integers(2 * window + 2, 30)))
    contexts, targets = as_tuple(student.cbow_examples(ids, window), 2, "cbow_examples")
    expected_contexts, expected_targets = ref.cbow_examples(ids, window)
    contexts = as_array(contexts, f"the contexts of cbow_examples(ids, {window})", expected_contexts.shape)
    targets = as_array(targets, f"the targets of cbow_examples(ids, {window})", expected_targets.shape)
    expect_same_rows(np.column_stack([contexts, targets]), np.column_stack([expected_contexts, expected_targets]),
                f"the (contexts, target) rows of cbow_examples(ids, {window})")


@check("test_naive_softmax_loss_and_grad", points=8, functions=["naive_softmax_loss_and_grad"])
def naive_softmax_matches_reference(student, rng):
    expect_loss_and_grads(student, "naive_softmax_loss_and_grad", random_loss_inputs(rng))


@check("test_naive_softmax_loss_and_grad", points=6, functions=["naive_softmax_loss_and_grad"])
def naive_softmax_passes_gradient_check(student, rng):
    expect_passes_gradient_check(student, "naive_softmax_loss_and_grad", random_loss_inputs(rng))


def random_neg_sampling_inputs(rng):
    center, outside_idx, outside = random_loss_inputs(rng)
    return center, outside_idx, outside, random_negatives(rng, len(outside), outside_idx, int(rng.integers(3, 8)))


@check("test_neg_sampling_loss_and_grad", points=6, functions=["neg_sampling_loss_and_grad"])
def neg_sampling_matches_reference(student, rng):
    expect_loss_and_grads(student, "neg_sampling_loss_and_grad", random_neg_sampling_inputs(rng))


@check("test_neg_sampling_loss_and_grad", points=4, functions=["neg_sampling_loss_and_grad"])
def neg_sampling_counts_repeated_negatives(student, rng):
    center, outside_idx, outside = random_loss_inputs(rng)
    two = rng.choice(np.delete(np.arange(len(outside)), outside_idx), size=2, replace=False)
    negatives = np.repeat(two, [3, 1])
    expect_loss_and_grads(student, "neg_sampling_loss_and_grad", (center, outside_idx, outside, negatives))


@check("test_neg_sampling_loss_and_grad", points=4, functions=["neg_sampling_loss_and_grad"])
def neg_sampling_passes_gradient_check(student, rng):
    expect_passes_gradient_check(student, "neg_sampling_loss_and_grad", random_neg_sampling_inputs(rng))


@check("test_sample_negatives", points=3, functions=["sample_negatives"])
def sample_negatives_never_returns_exclude(student, rng):
    noise = noise_with_a_heavy_word(rng, int(rng.integers(8, 15)))
    exclude = int(np.argmax(noise))
    if np.any(sampled(student, noise, exclude, rng) == exclude):
        raise Fail("sample_negatives returned `exclude`")


@check("test_sample_negatives", points=5, functions=["sample_negatives"])
def sample_negatives_follow_the_noise(student, rng):
    noise = noise_with_a_heavy_word(rng, int(rng.integers(8, 15)))
    exclude = int(np.argmax(noise))
    expected = noise.copy()
    expected[exclude] = 0.0
    expect_distribution(sampled(student, noise, exclude, rng), expected / expected.sum(),
                        "sample_negatives (independent draws from `noise` without `exclude`)")


@check("test_build_skipgram_model", points=4, functions=["build_skipgram_model"])
def skipgram_model_has_two_embedding_tables(student, rng):
    inputs = model_inputs(rng)
    shape = (inputs["vocab_size"], inputs["embed_dim"])
    got = student.probe(probes.skipgram_model, **{k: inputs[k] for k in ("vocab_size", "embed_dim", "num_ns")})
    expect_layers(expect_model(got, "build_skipgram_model"), {"Embedding": [shape] * 2}, "build_skipgram_model")


@check("test_build_skipgram_model", points=8, functions=["build_skipgram_model"])
def skipgram_model_logits_are_dot_products(student, rng):
    inputs = model_inputs(rng)
    shape = (inputs["vocab_size"], inputs["embed_dim"])
    tables = [rng.normal(0, 0.5, size=shape).astype(np.float32) for _ in range(2)]
    shapes, logits = as_tuple(student.probe(probes.skipgram_logits, tables=tables, **inputs), 2, "the model probe")
    if as_shapes(shapes, "the trainable weights of the model") != [shape] * 2:
        raise Fail(f"the model's trainable weights should be exactly two {shape} tables, found {len(shapes)} "
                   "weights")
    target, context = inputs["target"], inputs["context"]
    options = [np.einsum("bd,bcd->bc", tables[a][target], tables[1 - a][context]) for a in (0, 1)]
    logits = as_array(logits, "the model's output", options[0].shape)
    expect_outputs(logits, min(options, key=lambda o: np.max(np.abs(o - logits))),
                   "the logits (target embedding . each context embedding)")


def trained_embeddings(student, tokens, rng):
    """The student's (embeddings, word_to_id) after training on `tokens` with the grader's settings, checked for form."""
    got = as_tuple(student.train_word2vec(tokens, *TRAIN_SETTINGS.values(), draw_seed(rng)), 2, "train_word2vec")
    word_to_id = as_vocab(got[1], "the word_to_id returned by train_word2vec")
    if set(word_to_id) != set(tokens) or sorted(word_to_id.values()) != list(range(len(word_to_id))):
        raise Fail("the word_to_id of train_word2vec should number every distinct token 0..V-1")
    embeddings = as_array(got[0], "the embeddings of train_word2vec", (len(word_to_id), TRAIN_SETTINGS["embed_dim"]))
    if not np.all(np.isfinite(embeddings)):
        raise Fail("the embeddings of train_word2vec contain NaN or infinity")
    return embeddings, word_to_id


@check("test_train_word2vec", points=12, functions=TRAIN_USES)
def train_word2vec_recovers_planted_groups(student, rng):
    tokens, member_words = planted_corpus(rng)
    embeddings, word_to_id = trained_embeddings(student, tokens, rng)
    precision = planted_precision(embeddings, word_to_id, member_words)
    table("your embeddings: the nearest neighbours of a word of each planted group (* in its group)",
          ["word", "its nearest neighbours"],
          [[group[0], ", ".join(word + "*" * (word in group)
                                for word, _ in ref.most_similar(embeddings, word_to_id, group[0], 5))]
           for group in member_words])
    against_pass_line("share of each word's nearest neighbours in its own group", precision, PLANTED_PRECISION)
    if not precision >= PLANTED_PRECISION:
        raise Fail(f"on a corpus where groups of words share their contexts, only {precision:.0%} of each word's "
                   f"nearest neighbours are in its group (at least {PLANTED_PRECISION:.0%} expected)")


@check("test_train_word2vec", points=6, functions=TRAIN_USES)
def train_word2vec_draws_negatives_from_the_noise(student, rng):
    """Words seen only next to a very frequent hub stay unlike the rest when the hub is drawn as a negative as
    often as the 3/4-power noise says; with uniform negatives it almost never is, and they drift towards all."""
    tokens, lonely_words, hub = hub_corpus(rng)
    similarity = lonely_similarity(*trained_embeddings(student, tokens, rng), lonely_words, hub)
    if not similarity < LONELY_SIMILARITY:
        raise Fail(f"words seen only next to a very frequent word have a mean cosine of {similarity:.2f} with all "
                   f"the others (below {LONELY_SIMILARITY} expected): draw the negatives from noise_distribution, "
                   "where frequent words are drawn often, and train as the recipe says (Adam at 0.01)")


@check("test_most_similar", points=6, functions=["most_similar"])
def most_similar_matches_reference(student, rng):
    expect_neighbours(student, rng, int(rng.integers(2, 8)))


@check("test_most_similar", points=2, functions=["most_similar"])
def most_similar_default_topn(student, rng):
    expect_neighbours(student, rng)


def expect_neighbours(student, rng, *topn):
    """most_similar on embeddings whose rows have very different norms (cosine is not Euclidean)."""
    vocab_size = int(rng.integers(12, 25))
    words = sorted({random_word(rng) + str(i) for i in range(vocab_size)})
    word_to_id = {w: int(i) for i, w in enumerate(rng.permutation(words))}
    embeddings = rng.normal(size=(vocab_size, 6)) * np.exp(rng.uniform(-2, 2, size=(vocab_size, 1)))
    word = str(rng.choice(words))
    got = student.most_similar(embeddings, word_to_id, word, *topn)
    expected = ref.most_similar(embeddings, word_to_id, word, *topn)
    if not isinstance(got, list) or not all(isinstance(item, tuple) and len(item) == 2 for item in got):
        raise Fail("most_similar should return a list of (word, cosine) tuples")
    if len(got) != len(expected):
        raise Fail(f"most_similar returned {len(got)} neighbours, expected {len(expected)}")
    if [w for w, _ in got] != [w for w, _ in expected]:
        raise Fail("most_similar returned the wrong words or the wrong order (most similar first, "
                   "by cosine, without the word itself)")
    expect_close([as_float(c, "a cosine of most_similar") for _, c in got], [c for _, c in expected],
                 "the cosines of most_similar")


CHECKS = (tokenize_matches_reference, build_vocab_matches_reference, build_vocab_drops_rare_words,
          noise_distribution_default_power, noise_distribution_given_power, skipgram_pairs_match_reference,
          skipgram_pairs_window_wider_than_the_text, cbow_examples_match_reference, naive_softmax_matches_reference,
          naive_softmax_passes_gradient_check, neg_sampling_matches_reference, neg_sampling_counts_repeated_negatives,
          neg_sampling_passes_gradient_check, sample_negatives_never_returns_exclude,
          sample_negatives_follow_the_noise, most_similar_matches_reference, most_similar_default_topn,
          skipgram_model_has_two_embedding_tables, skipgram_model_logits_are_dot_products,
          train_word2vec_recovers_planted_groups, train_word2vec_draws_negatives_from_the_noise)
