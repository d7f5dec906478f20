"""Pickling of a model, so it can travel to Dask workers (dask-ml's Incremental moves the
estimator from task to task) and come back with its weights and optimizer state."""


class PicklableModel:
    """Mixin of Trainer: __getstate__ / __setstate__ that leave the thread guard behind and
    re-key what is keyed by id() (which a copy does not keep)."""

    def __getstate__(self):
        # a model travels to Dask workers by pickle: its lock and thread records stay here
        state = dict(self.__dict__)
        for key in ("_guard", "_fit_thread", "_readers"):
            state.pop(key, None)
        # layers key their gradient buffers by id(weight), which a copy does not keep:
        # remember which weight (by position) each key belonged to
        state["_pickled_gradient_keys"] = [
            [(i, id(value)) for i, (_, value, _, _) in enumerate(layer._weights)
             if id(value) in layer._gradients] for layer in self.layers]
        return state

    def __setstate__(self, state):
        keys = state.pop("_pickled_gradient_keys", None)
        self.__dict__.update(state)
        self._init_guard()
        if keys is not None:
            for layer, pairs in zip(self.layers, keys):
                old = layer._gradients
                layer._gradients = {id(layer._weights[i][1]): old[k] for i, k in pairs}
        opt = getattr(self, "optimizer", None)
        if opt is not None and getattr(opt, "_slots", None):
            # slots are keyed by id(variable) too; each entry holds its variable
            opt._slots = {id(entry[0]): entry for entry in opt._slots.values()}
