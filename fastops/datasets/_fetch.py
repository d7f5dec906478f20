"""One fetch for every dataset: the cache folder, ordered sources, verification, atomic writes.

`get_file(name, sources, verify)` returns what `verify` read from the first file that
verifies.  The places it looks, in order (DEVELOPERS.md, "Datasets", has the per-dataset
lists):

- the target: `path` if the loader was given one (relative to the cache folder, as Keras),
  else the cache file $FASTOPS_HOME/datasets/NAME.  Its place among the sources is the
  `CACHE` marker, first when the list has none;
- right after it, the spare copy in the user's temp folder, where a fetch went that the
  cache could not hold (read-only folder, a file where the folder should be, a folder where
  the file should be);
- the other sources, in the order given: `Local` files read in place (Keras' cache, a Debian
  package), `Url` downloads and `Call`s (a converter such as MNIST's pip wheel) that write
  into the target.

A file is accepted only when `verify(path)` returns; it raises `Rejected` with the reason
otherwise.  Everything written goes through fastops._atomic (temporary file beside the
target, fsync, os.replace), so a killed fetch never looks like a cache; leftovers of killed
writers are removed by owner pid and age.  When nothing works, the OSError lists every
source tried and why it failed, and says where to put the file by hand.
"""
import contextlib
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from .. import _atomic
from ._download import download
from ._places import data_home, keras_cached, keras_home, resolve, spare_home  # noqa: F401
from ._verify import Rejected, arrays_sha256, digest_is, file_digest  # noqa: F401

_LEGACY_PART = ".part_"  # temporary names of fastops <= 0.1, which had no owner pid
_warned = set()          # cache folders already reported as unusable in this process


class _CacheMarker:
    def __repr__(self):
        return "CACHE"


CACHE = _CacheMarker()  # where the target (cache file or the user's path) is tried


@dataclass(frozen=True)
class Local:
    """A file used in place when it exists (Keras' cache, a Debian package)."""
    path: Path
    verify: Optional[Callable[[Path], Any]] = None  # None: get_file's own


@dataclass(frozen=True)
class Url:
    """A download into the target; `size` in bytes when known."""
    url: str
    size: Optional[int] = None
    verify: Optional[Callable[[Path], Any]] = None


@dataclass(frozen=True)
class Call:
    """`write(tmp_path)` writes the candidate file (e.g. converted from a pip wheel); it
    raises OSError or Rejected saying why when it cannot."""
    label: str
    write: Callable[[Path], None]
    verify: Optional[Callable[[Path], Any]] = None


# --------------------------------------------------------------------------- get_file

def get_file(name, sources, verify, *, path=None, what=None, expected="", hint=""):
    """The value `verify` returns for the first file that verifies (module docstring).

    Args:
        name: the file's name in the cache folder (may hold a subfolder).
        sources: `Local`, `Url` and `Call` sources, and optionally the `CACHE` marker.
        verify: `verify(path)` returns what was read, or raises `Rejected` with a reason.
        path: the user's path, if any (see `resolve`).  An existing file there that fails
            verification raises OSError naming it, and is never overwritten.
        what, expected, hint: words for messages (what the file is, its digest, how else
            to get it).

    Returns:
        What `verify` returned.

    Raises:
        OSError: no source verified; the message lists each and says where to put the file.
    """
    what = what or name
    cache_file = data_home() / name
    target = resolve(path, name)
    explicit = target != cache_file
    spare_dir = spare_home()
    spare = spare_dir / name if spare_dir is not None else None  # None: not made yet
    _remove_leftovers(target)
    order = list(sources)
    if CACHE not in order:
        order.insert(0, CACHE)
    tried, corrupt = [], False
    for source in order:
        if source is CACHE:
            found, value, corrupt = _from_target(target, spare, explicit, verify, what,
                                                 expected, tried)
            if found:
                return value
        elif isinstance(source, Local):
            if not os.path.lexists(source.path):
                tried.append(f"{source.path}: not found")
                continue
            try:
                value = (source.verify or verify)(source.path)
            except (Rejected, OSError) as e:
                tried.append(f"{source.path}: {e}")
                continue
            if corrupt:  # ours, and served elsewhere now: do not warn about it again
                with contextlib.suppress(OSError):
                    os.unlink(target)
            return value
        else:
            try:
                return _fetch_into(source, target, name, verify, what)
            except (Rejected, OSError) as e:
                tried.append(_label(source) + f": {e}")
    lines = [f"could not obtain {what}. Sources tried:"] + [f"  - {t}" for t in tried]
    lines.append(f"Put the file by hand at {target}" + (f" ({expected})" if expected else ""))
    if hint:
        lines.append(hint)
    raise OSError("\n".join(lines))


def _label(source):
    return source.url if isinstance(source, Url) else source.label


def _from_target(target, spare, explicit, verify, what, expected, tried):
    """(found, value, target_is_corrupt) for the target, then the spare copy."""
    corrupt = False
    if os.path.lexists(target):
        if not target.is_file():
            if explicit:
                raise OSError(f"{target} is not a valid {what} (not a regular file)")
            tried.append(f"{target}: not a regular file")
        else:
            try:
                return True, verify(target), False
            except (Rejected, OSError) as e:
                if explicit:
                    raise OSError(f"{target} is not a valid {what} ({e})"
                                  + (f"; expected {expected}" if expected else "")) from None
                warnings.warn(f"fastops: cached {target} is corrupt ({e}); fetching it again",
                              RuntimeWarning, stacklevel=4)
                tried.append(f"{target}: {e}")
                corrupt = True
    if spare is not None and spare.is_file():
        try:
            value = verify(spare)
        except (Rejected, OSError) as e:
            tried.append(f"{spare}: {e}")
            with contextlib.suppress(OSError):
                os.unlink(spare)
            return False, None, corrupt
        _promote(spare, target, what)
        return True, value, corrupt
    return False, None, corrupt


def _promote(spare, target, what):
    """Move a spare copy into the target once the target can take it."""
    reason = _unusable(target)
    if reason is None:
        try:
            with _atomic.atomic_path(target) as tmp:
                shutil.copyfile(spare, tmp)
        except OSError as e:
            reason = str(e)
        else:
            with contextlib.suppress(OSError):
                os.unlink(spare)
            return
    _warn_uncached(target, what, reason, spare)


def _unusable(target):
    if os.path.lexists(target) and not target.is_file():
        return f"{target} exists and is not a regular file"
    return None


def _fetch_into(source, target, name, verify, what):
    """Fetch `source` into the target, else the spare, else a throwaway folder; the value
    verified is returned whether or not it could be kept."""
    reasons = []
    for dest in (target, None):
        if dest is None:
            root = spare_home(create=True)  # made only when needed
            if root is None:
                continue
            dest = root / name
        try:
            value, kept = _fetch_to(source, dest, verify, reasons)
        except _FolderProblem:
            continue
        if kept != target:
            _warn_uncached(target, what, reasons[0], kept)
        return value
    try:
        with tempfile.TemporaryDirectory(prefix="fastops-fetch-") as throwaway:
            value, _ = _fetch_to(source, Path(throwaway) / target.name, verify, reasons)
    except _FolderProblem:
        raise OSError("no folder can take the file: " + "; ".join(reasons)) from None
    _warn_uncached(target, what, reasons[0], None)
    return value


class _FolderProblem(Exception):
    pass


def _fetch_to(source, dest, verify, reasons):
    """(value, dest or None if it could not be put in place).  Source failures propagate;
    a folder that cannot take the file raises _FolderProblem, its reason in `reasons`."""
    reason = _unusable(dest)
    if reason:
        reasons.append(reason)
        raise _FolderProblem
    stage = "folder"
    try:
        with _atomic.atomic_path(dest) as tmp:
            stage = "source"
            if isinstance(source, Url):
                download(source.url, tmp, source.size)
            else:
                source.write(tmp)
            value = (source.verify or verify)(tmp)
            stage = "rename"
    except (Rejected, OSError) as e:
        if stage == "source":
            raise
        reasons.append(getattr(e, "strerror", None) or str(e))
        if stage == "folder":
            raise _FolderProblem from None
        return value, None  # verified, but it could not be put in place
    return value, dest


def _warn_uncached(target, what, reason, kept):
    key = str(target)
    if key in _warned:
        return
    _warned.add(key)
    where = (f"a copy is kept in {kept} and used until the cache can take it" if kept else
             "it is not kept anywhere and will be fetched again next time")
    warnings.warn(f"fastops: {what} cannot be cached in {target.parent} ({reason}); {where}",
                  RuntimeWarning, stacklevel=5)


def _remove_leftovers(target):
    """Temporaries of killed writes beside the target: by owner pid and age
    (fastops._atomic), and the pid-less `NAME.part_*` of older fastops versions by age."""
    folder = target.parent
    _atomic.remove_stale_temps(folder, target.name)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    cutoff = time.time() - _atomic.STALE_AFTER_SECONDS
    for entry in entries:
        if entry.name.startswith(target.name + _LEGACY_PART):
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
