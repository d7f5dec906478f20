"""All-or-nothing files: every file fastops writes goes through `atomic_path` or `atomic_open`.

A file is written under a temporary name in its own folder, flushed to disk (fsync), and
renamed over the final name with os.replace, which is atomic on one file system.  A reader
(or a crash, a kill, a full disk) therefore sees either the previous file or the complete
new one, never a truncated mix.  On any exception, KeyboardInterrupt included, the
temporary file is removed and the final name is left as it was.

Temporary names are ``.NAME.tmp-PID-RANDOM``: hidden, beside the final file, and marked
with the writer's process id, so `remove_stale_temps` can delete the leftovers of writers
that died (SIGKILL, power loss) without touching a write that is still in progress.
"""
import contextlib
import os
import tempfile
import time
from pathlib import Path

_MARK = ".tmp-"
# A leftover whose writer's pid is alive is still removed past this age: pids are reused.
STALE_AFTER_SECONDS = 24 * 3600


def _read_umask():
    # os.umask can only be read by setting it: done once, at import, before any thread of
    # fastops writes, rather than around every write where another thread could see 0
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _fsync_dir(folder):
    # The rename itself is durable only once the folder's entry is on disk (POSIX).
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows, or a folder we may not open: the data file itself was synced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(final, *, make_parents=True):
    """Yield a temporary path beside `final`; when the block ends without an exception the
    file written there is synced and renamed to `final`.

    For writers that want a file name (h5py, np.savez).  The folder is created when missing
    (`make_parents`).  Raises OSError naming `final` when the folder cannot be written.
    """
    final = Path(os.fspath(final))
    folder = final.parent
    if make_parents:
        folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(folder, final.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}{_MARK}{os.getpid()}-", dir=folder)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it 0600; keep the user's default
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


@contextlib.contextmanager
def atomic_open(final, mode="wb", **kwargs):
    """Open a temporary file beside `final` for writing; renamed to `final` on success.

    `mode` must be a write mode ('w', 'wb', 'wt'); kwargs go to open().
    """
    if mode not in ("w", "wb", "wt", "w+", "wb+"):
        raise ValueError(f"atomic_open: mode must be a write mode such as 'wb', got {mode!r}")
    with atomic_path(final) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f


def _pid_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else, or we cannot tell: keep it
    return True


def remove_stale_temps(folder, name=None):
    """Delete leftovers of interrupted writes in `folder` (of the file `name` only, if given):
    temporary files whose writer process is gone, or older than a day.  Returns how many
    were removed; never raises."""
    removed = 0
    prefix = f".{name}{_MARK}" if name else "."
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(prefix) or _MARK not in entry.name:
            continue
        try:
            pid = int(entry.name.rsplit(_MARK, 1)[1].split("-", 1)[0])
        except ValueError:
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_SECONDS
            if old or not _pid_alive(pid):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed
