"""The weights store of Keras 3 (model.weights.h5): layers/<name>/vars/<i>, optimizer/vars/<i>.

Optimizer variables, in Keras 3's order: iterations, learning_rate, then each slot group of
the optimizer, variable by variable (Adam interleaves momentum and velocity per variable).
"""
import numpy as np

_SLOT_GROUPS = {"SGD": [["momentum"]], "RMSprop": [["velocity"], ["momentum"],
                                                  ["average_gradient"]],
                "Adagrad": [["accumulator"]], "Adam": [["momentum", "velocity"],
                                                       ["velocity_hat"]]}


def _slot_order(optimizer, variables):
    """(variable, slot name) pairs in Keras' order, for the slots this optimizer has."""
    have = set(optimizer._make_slots(np.zeros(1)))
    order = []
    for group in _SLOT_GROUPS[type(optimizer).__name__]:
        group = [name for name in group if name in have]
        for v in variables:
            order.extend((v, name) for name in group)
    return order


def layer_keys(model):
    """Keras 3's path of each layer: its snake-case class name, numbered per class in order
    ('dense', 'dense_1', 'dropout', ...), never the layer's own (auto-generated) name."""
    used, keys = {}, []
    for layer in model.layers:
        base = "".join("_" + c.lower() if c.isupper() else c
                       for c in type(layer).__name__).lstrip("_")
        used[base] = used.get(base, -1) + 1
        keys.append(base if used[base] == 0 else f"{base}_{used[base]}")
    return keys


def write(h5, model, optimizer=None):
    """Write the model's (and optionally the optimizer's) variables into the open h5 file."""
    layers = h5.create_group("layers")
    for layer, key in zip(model.layers, layer_keys(model)):
        group = layers.create_group(key).create_group("vars")
        group.attrs["name"] = layer.name
        for i, w in enumerate(layer.weights):
            group.create_dataset(str(i), data=w)
    if optimizer is not None:
        group = h5.create_group("optimizer").create_group("vars")
        group.attrs["name"] = optimizer.name
        group.create_dataset("0", data=np.int64(optimizer.iterations))
        group.create_dataset("1", data=np.float32(optimizer.learning_rate))
        for i, (v, name) in enumerate(_slot_order(optimizer, model.trainable_weights), 2):
            group.create_dataset(str(i), data=optimizer.slots_for(v)[name])
    h5.create_group("vars").attrs["name"] = model.name


def read_layers(h5, model, path):
    """The arrays of every layer in model order, one flat list (ValueError naming the file
    when a layer is missing)."""
    if "layers" not in h5:
        raise ValueError(f"{path}: not a Keras 3 weights file (no 'layers' group)")
    arrays = []
    for layer, key in zip(model.layers, layer_keys(model)):
        if key not in h5["layers"]:
            raise ValueError(f"{path}: no weights for layer '{layer.name}' at layers/{key} (the "
                             f"file has {sorted(h5['layers'])})")
        group = h5["layers"][key].get("vars", {})
        arrays += [np.asarray(group[str(i)]) for i in range(len(group))]
    return arrays


def read_optimizer(h5, optimizer, variables):
    """Restore iterations, learning rate and slots; False (nothing changed) when the file's
    optimizer variables do not match this optimizer's."""
    if "optimizer" not in h5 or "vars" not in h5["optimizer"]:
        return False
    group = h5["optimizer"]["vars"]
    order = _slot_order(optimizer, variables)
    if len(group) != 2 + len(order):
        return False
    arrays = [np.asarray(group[str(i)]) for i in range(len(group))]
    if any(a.shape != v.shape for a, (v, _) in zip(arrays[2:], order)):
        return False
    optimizer.iterations = int(arrays[0])
    optimizer.learning_rate = float(arrays[1])
    for a, (v, name) in zip(arrays[2:], order):
        np.copyto(optimizer.slots_for(v)[name], a, casting="unsafe")
    return True
