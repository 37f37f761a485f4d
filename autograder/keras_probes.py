"""Kernel-side helpers any assignment's probes may use: they run in the student's kernel.

Like a course's `reference/<id>_probes.py`, this file is sent by source (see `autograder.probes`),
so it holds only functions that import what they use. Its results are data for
`checks.expect_model`, never believed otherwise.
"""


def inner_layers(layer):
    """Every layer inside `layer`, nested models included, depth first."""
    for child in getattr(layer, "layers", []):
        yield child
        yield from inner_layers(child)


def layer_details(layer):
    """The sizes that identify a layer of the kinds the course's models use (None for other kinds)."""
    import keras

    def width():
        try:
            return int(layer.input.shape[-1])
        except Exception:  # a layer of a subclassed model, or used twice, has no single input: unknown
            return None

    if isinstance(layer, keras.layers.Embedding):
        return int(layer.input_dim), int(layer.output_dim)
    if isinstance(layer, keras.layers.Conv1D):
        return int(layer.kernel_size[0]), int(layer.filters)
    if isinstance(layer, keras.layers.Dense):
        return int(layer.units), int(layer.kernel.shape[0])
    if isinstance(layer, keras.layers.Dropout):
        return float(layer.rate), width()
    if isinstance(layer, keras.layers.RNN):
        return (int(layer.cell.units),)
    return None


def describe_model(model, batches):
    """What `checks.expect_model` reads: the kind, compilation, size and output shapes of `model`.

    `batches` are inputs to call the model on (each a NumPy array, or a list for several inputs);
    calling it first builds every layer, so their input widths are known.
    """
    import keras
    if not isinstance(model, keras.Model):
        return {"model": False}
    shapes = [tuple(int(n) for n in keras.ops.shape(model(batch))) for batch in batches]
    return {"model": True, "compiled": bool(getattr(model, "compiled", False)),
            "params": int(model.count_params()), "shapes": shapes,
            "inputs": [[tuple(part.shape) for part in batch] if isinstance(batch, list) else tuple(batch.shape)
                       for batch in batches],
            "layers": [(type(layer).__name__, layer_details(layer)) for layer in inner_layers(model)]}
