"""Keras 3's model summary table, as text lines."""

_WIDTHS = (33, 24, 15)


def _size(params, itemsize):
    nbytes = params * itemsize
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024


def _row(cells, align=("<", "<", ">")):
    return "│" + "│".join(f" {c:{a}{w - 2}} " for c, a, w in zip(cells, align, _WIDTHS)) + "│"


def summary_lines(model):
    """The lines of model.summary()."""
    import numpy as np
    bar = ["━" * w for w in _WIDTHS]
    line = ["─" * w for w in _WIDTHS]
    lines = [f'Model: "{model.name}"', "┏" + "┳".join(bar) + "┓",
             "┃" + "┃".join(f" {c:{a}{w - 2}} " for c, a, w in
                            zip(("Layer (type)", "Output Shape", "Param #"), "<<>", _WIDTHS))
             + "┃", "┡" + "╇".join(bar) + "┩"]
    for i, layer in enumerate(model.layers):
        shape = str(layer.output_shape) if layer.built else "?"
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        lines.append(_row((f"{layer.name} ({type(layer).__name__})", shape, params)))
        if i + 1 < len(model.layers):
            lines.append("├" + "┼".join(line) + "┤")
    lines.append("└" + "┴".join(line) + "┘")
    itemsize = np.dtype(model.dtype).itemsize
    trainable = sum(w.size for w in model.trainable_weights) if model.built else 0
    total = sum(w.size for w in model.weights) if model.built else 0
    lines += [f" Total params: {total:,} ({_size(total, itemsize)})",
              f" Trainable params: {trainable:,} ({_size(trainable, itemsize)})",
              f" Non-trainable params: {total - trainable:,} "
              f"({_size(total - trainable, itemsize)})"]
    return lines
