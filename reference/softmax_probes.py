"""Kernel-side probes of `softmax`: they run in the student's kernel (see `autograder.probes`)."""
from autograder.keras_probes import describe_model


def keras_classifier(student, n_features, n_classes):
    """The model of build_keras_classifier, described for `checks.expect_model`."""
    import numpy as np
    return describe_model(student.build_keras_classifier(n_features, n_classes),
                          [np.zeros((3, n_features), "float32")])


def keras_classifier_logits(student, n_features, n_classes, W, b, X):
    """The model's outputs on X once its Dense layer holds the grader's W and b."""
    import keras
    model = student.build_keras_classifier(n_features, n_classes)
    model(X)  # builds a subclassed model's layers, so that their weights can be set
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    dense[0].set_weights([W, b])
    return keras.ops.convert_to_numpy(model(X))
