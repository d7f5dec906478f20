"""Where dataset files live: the fastops cache, Keras' cache, the spare folder for fetches
the cache cannot hold, and how a loader's `path` argument maps onto them."""
import os
import tempfile
from pathlib import Path


def data_home():
    """The fastops dataset cache: $FASTOPS_HOME/datasets, default ~/.fastops/datasets."""
    root = os.environ.get("FASTOPS_HOME") or os.path.join(os.path.expanduser("~"), ".fastops")
    return Path(root) / "datasets"


def keras_home():
    """Keras' dataset cache ($KERAS_HOME/datasets, default ~/.keras/datasets)."""
    root = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(root) / "datasets"


def spare_home(create=False):
    """Where fetches go that the cache cannot hold: TEMP/fastops-UID/datasets, TEMP being
    tempfile.gettempdir() ($TMPDIR, else /tmp), made mode 0700.  None when that folder is
    not ours alone (in a shared temp folder another user could have made it, or a link
    there: we neither read nor write there), or when it is missing and `create` is false."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    root = Path(tempfile.gettempdir()) / f"fastops-{user}"
    try:
        if create:
            root.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(root)
    except OSError:
        return None
    if not os.path.isdir(root) or os.path.islink(root):
        return None
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        return None  # someone else's, or others may write in it
    return root / "datasets"


def resolve(path, default_name):
    """The file `path` names: relative paths under the cache folder, as Keras does with its
    own; None is the cache's `default_name`."""
    if path is None:
        return data_home() / default_name
    target = Path(os.fspath(path)).expanduser()
    return target if target.is_absolute() else data_home() / target


def keras_cached(path, default_name):
    """Where Keras itself would keep `path`: relative paths under its cache folder."""
    if path is not None and not Path(os.fspath(path)).expanduser().is_absolute():
        return keras_home() / Path(os.fspath(path))
    return keras_home() / default_name
