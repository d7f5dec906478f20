"""One registry for every named, serializable object (activations, initializers, regularizers,
losses, metrics, optimizers, layers, callbacks): Keras' names and aliases, and Keras 3's
serialization format ``{"module", "class_name", "config", "registered_name"}``.
"""
import contextlib
import contextvars
import inspect

_KINDS = {}      # kind -> {lower-case name or alias: class or function}
_CLASSES = {}    # kind -> {class_name: class}
# the custom objects in force ({name: class or function}), consulted before the registry
_CUSTOM = contextvars.ContextVar("fastops_custom_objects", default={})


@contextlib.contextmanager
def custom_object_scope(custom_objects):
    """Within the block, names in `custom_objects` ({name: class or function}) resolve to
    those objects wherever a config or a name is deserialized (load_model's custom_objects,
    Keras 3's keras.saving.custom_object_scope)."""
    if custom_objects is None:
        custom_objects = {}
    if not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict {{name: class or function}}, got "
                        f"{type(custom_objects).__name__}")
    token = _CUSTOM.set({**_CUSTOM.get(), **custom_objects})
    try:
        yield
    finally:
        _CUSTOM.reset(token)


def _custom(*names):
    table = _CUSTOM.get()
    for name in names:
        if isinstance(name, str) and name in table:
            return table[name]
    return None


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
    target = _custom(name) or _KINDS.get(kind, {}).get(name.lower())
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
    # Keras 3 writes a function as class_name 'function' with its name as the config
    custom = _custom(config.get("registered_name"), name,
                     config.get("config") if name == "function" else None)
    if custom is not None:
        if not isinstance(custom, type):
            return custom
        if hasattr(custom, "from_config"):
            return custom.from_config(dict(config.get("config") or {}))
        return custom(**dict(config.get("config") or {}))
    if name == "function" and isinstance(config.get("config"), str):
        return lookup(kind, config["config"])
    cls = _CLASSES.get(kind, {}).get(name) or _KINDS.get(kind, {}).get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown {kind} class {name!r}. Known: "
                         f"{sorted(_CLASSES.get(kind, {}))}")
    return cls.from_config(dict(config.get("config") or {}))
