"""One registry for every named, serializable object (activations, initializers, regularizers,
losses, metrics, optimizers, layers, callbacks): Keras' names and aliases, and Keras 3's
serialization format ``{"module", "class_name", "config", "registered_name"}``.
"""
import inspect

_KINDS = {}      # kind -> {lower-case name or alias: class or function}
_CLASSES = {}    # kind -> {class_name: class}


def snake_case(class_name):
    """The default name Keras gives an object of a class: "BinaryCrossentropy" ->
    "binary_crossentropy"."""
    return "".join("_" + c.lower() if c.isupper() else c for c in class_name).lstrip("_")


def register(kind, *names):
    """Class decorator: make `cls` known as `kind` under its class name and `names`."""
    def deco(cls):
        table = _KINDS.setdefault(kind, {})
        for name in names:
            table[name.lower()] = cls
        _CLASSES.setdefault(kind, {})[cls.__name__] = cls
        table.setdefault(cls.__name__.lower(), cls)
        return cls
    return deco


def alias(kind, name, target):
    """Also know `target` (a class or a function) as `name`."""
    _KINDS.setdefault(kind, {})[name.lower()] = target


def known(kind):
    """The names `kind` accepts, sorted."""
    return sorted(_KINDS.get(kind, {}))


def lookup(kind, name):
    """The class or function registered as `name`; ValueError listing the known names."""
    target = _KINDS.get(kind, {}).get(name.lower())
    if target is None:
        raise ValueError(f"Unknown {kind}: {name!r}. Known: {known(kind)}")
    return target


def resolve(kind, identifier, base, by_name=None):
    """`identifier` as an instance of `base`: the instance itself, a new one (Keras defaults)
    from its case-insensitive name, or one rebuilt from a Keras 3 config dict."""
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        target = by_name.get(identifier.lower()) if by_name is not None else lookup(kind, identifier)
        if target is None:
            raise ValueError(f"Unknown {kind}: {identifier!r}. Known: {sorted(by_name)}")
        return target() if isinstance(target, type) else target
    if isinstance(identifier, dict):
        return deserialize(kind, identifier)
    raise TypeError(f"{kind} must be a name, a config dict or a {base.__module__}."
                    f"{base.__name__}, got {type(identifier).__name__}")


def serialize(obj):
    """Keras 3's config dict of `obj` (None stays None)."""
    if obj is None:
        return None
    return {"module": obj.keras_module, "class_name": type(obj).__name__,
            "config": obj.get_config(), "registered_name": None}


def constructor_config(obj, skip=()):
    """The named arguments of type(obj).__init__ (but `skip`), in order, each read back from
    obj's attribute of the same name: the config of an object that keeps its arguments so
    (Keras 3 builds such configs from the constructor's arguments too)."""
    params = inspect.signature(type(obj).__init__).parameters.values()
    return {p.name: getattr(obj, p.name) for p in params
            if p.name != "self" and p.name not in skip
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def deserialize(kind, config):
    """An object of `kind` from Keras 3's config dict (or a bare name)."""
    if isinstance(config, str):
        target = lookup(kind, config)
        return target() if isinstance(target, type) else target
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Cannot deserialize {kind} from {config!r}: expected a name or a dict "
                         f"with 'class_name' and 'config'")
    name = config["class_name"]
    cls = _CLASSES.get(kind, {}).get(name) or _KINDS.get(kind, {}).get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown {kind} class {name!r}. Known: "
                         f"{sorted(_CLASSES.get(kind, {}))}")
    return cls.from_config(dict(config.get("config") or {}))
