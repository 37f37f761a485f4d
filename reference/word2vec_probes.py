"""Kernel-side probes of `word2vec`: they run in the student's kernel (see `autograder.probes`)."""
from autograder.keras_probes import describe_model


def naive_softmax_losses(student, points):
    """The loss of naive_softmax_loss_and_grad at each argument tuple: centred differences of the student's own loss."""
    return [student.naive_softmax_loss_and_grad(*point)[0] for point in points]


def neg_sampling_losses(student, points):
    """The loss of neg_sampling_loss_and_grad at each argument tuple."""
    return [student.neg_sampling_loss_and_grad(*point)[0] for point in points]


def negatives_drawn(student, noise, k, exclude, calls, seed):
    """`calls` draws of sample_negatives from one generator."""
    import numpy as np
    rng = np.random.default_rng(seed)
    return [student.sample_negatives(noise, k, exclude, rng) for _ in range(calls)]


def skipgram_model(student, vocab_size, embed_dim, num_ns):
    """The model of build_skipgram_model, described (not called) for `checks.expect_model`."""
    return describe_model(student.build_skipgram_model(vocab_size, embed_dim, num_ns), [])


def skipgram_logits(student, vocab_size, embed_dim, num_ns, tables, target, context):
    """The shapes of the model's trainable weights, and its logits once they hold the grader's `tables`."""
    import keras
    model = student.build_skipgram_model(vocab_size, embed_dim, num_ns)
    shapes = [tuple(int(n) for n in weight.shape) for weight in model.trainable_weights]
    if shapes == [(vocab_size, embed_dim)] * 2:
        for weight, table in zip(model.trainable_weights, tables):
            weight.assign(table)
    return shapes, keras.ops.convert_to_numpy(model([target, context]))
