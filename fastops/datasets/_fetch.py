"""Shared machinery of the dataset loaders: cache folder, checksums, atomic writes, downloads.

Every file a loader uses is verified before use, and every file it writes appears under its
final name only once complete: it is written to a temporary file in the same folder and
renamed with os.replace (atomic on one file system).  The temporary file is removed on any
exception, KeyboardInterrupt included, so an interrupted download never looks like a cache.
"""
import contextlib
import hashlib
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

# Short: on a machine without the route (these ones) a download must fail in seconds, not
# minutes, so the next source is tried.
TIMEOUT = 15.0
_CHUNK = 1 << 20


def data_home():
    """The fastops dataset cache: $FASTOPS_HOME/datasets, default ~/.fastops/datasets."""
    root = os.environ.get("FASTOPS_HOME") or os.path.join(os.path.expanduser("~"), ".fastops")
    return Path(root) / "datasets"


def keras_home():
    """Keras' dataset cache ($KERAS_HOME/datasets, default ~/.keras/datasets)."""
    root = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(root) / "datasets"


def file_digest(path, algorithm="sha256"):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def arrays_sha256(*arrays):
    """sha256 over the raw C-order bytes of the arrays, in order (independent of the file
    format and of the zlib version that compressed it)."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(memoryview(a).cast("B") if a.flags.c_contiguous else a.tobytes())
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(final):
    """Yield a temporary path beside `final`; on success it is renamed to `final`.

    On any exception (KeyboardInterrupt too) the temporary file is removed and `final` is
    left as it was.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=final.name + ".part_", dir=final.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; a cache is not secret
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Progress:
    """A progress line on stderr for work that takes long: rewritten in place on a terminal,
    a start line and an end line otherwise (so logs are not flooded)."""

    def __init__(self, label, total=None, unit="MB", scale=1e6):
        self.label, self.total, self.unit, self.scale = label, total, unit, scale
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.done = 0
        if not self.tty:
            print(f"{label} ...", file=sys.stderr, flush=True)

    def update(self, done):
        self.done = done
        now = time.monotonic()
        if self.tty and now - self.last > 0.2:
            self.last = now
            print("\r" + self._text(), end="", file=sys.stderr, flush=True)

    def close(self):
        print(("\r" if self.tty else "") + self._text() + " done", file=sys.stderr, flush=True)

    def _text(self):
        done = f"{self.done / self.scale:.1f}"
        if self.total:
            pct = 100.0 * self.done / self.total
            return f"{self.label}: {done}/{self.total / self.scale:.1f} {self.unit} ({pct:3.0f}%)"
        return f"{self.label}: {done} {self.unit}"


def download(url, dest, check, expected_size=None, timeout=TIMEOUT):
    """Download `url` to `dest` atomically; `check(tmp_path)` must return None (accepted) or
    a string saying why the file is rejected.  Raises OSError on any failure."""
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise OSError(f"cannot reach {url}: {getattr(e, 'reason', e)}") from None
    with response, atomic_path(dest) as tmp:
        total = expected_size or int(response.headers.get("Content-Length") or 0) or None
        progress = Progress(f"Downloading {url}", total)
        done = 0
        with open(tmp, "wb") as f:
            while True:
                try:
                    block = response.read(_CHUNK)
                except (OSError, TimeoutError) as e:
                    raise OSError(f"download of {url} broke off after {done} bytes: {e}") from None
                if not block:
                    break
                f.write(block)
                done += len(block)
                progress.update(done)
        progress.close()
        if expected_size is not None and done != expected_size:
            raise OSError(f"{url}: got {done} bytes, expected {expected_size}")
        reason = check(tmp)
        if reason:
            raise OSError(f"{url}: {reason}")
    return Path(dest)


def sha256_check(expected):
    """A `check` for download(): the file's sha256 must equal `expected`."""
    def check(path):
        actual = file_digest(path)
        if actual != expected:
            return f"sha256 {actual} does not match the expected {expected}"
        return None
    return check


def no_source_error(what, dest, sha256, tried, extra=""):
    """The error raised when no source works: where to put the file by hand, and why each
    source failed."""
    lines = [f"could not obtain {what}. Sources tried:"]
    lines += [f"  - {t}" for t in tried]
    lines.append(f"Put the file by hand at {dest}"
                 + (f" (expected sha256 {sha256})" if sha256 else ""))
    if extra:
        lines.append(extra)
    return OSError("\n".join(lines))
