"""Keras-style lookups: an object given by its name or as an instance."""


def resolve(kind, identifier, base, by_name):
    """`identifier` as an instance of `base`: the instance itself, or a new one (Keras
    defaults) from its case-insensitive name in `by_name`."""
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        cls = by_name.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown {kind}: {identifier!r}. Known: {sorted(by_name)}")
        return cls()
    raise TypeError(f"{kind} must be a name or a {base.__module__}.{base.__name__}, "
                    f"got {type(identifier).__name__}")
