"""Downloads and progress lines of the dataset loaders."""
import sys
import time
import urllib.error
import urllib.request

# Short: on a machine without the route a download must fail in seconds, not minutes, so
# the next source is tried.
TIMEOUT = 15.0
_CHUNK = 1 << 20


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


def download(url, dest, expected_size=None, timeout=TIMEOUT):
    """Write the body of `url` to `dest` (a temporary file: the caller verifies and renames
    it).  Raises OSError on any failure, a size different from `expected_size` included."""
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise OSError(f"cannot reach it: {getattr(e, 'reason', e)}") from None
    with response, open(dest, "wb") as f:
        total = expected_size or int(response.headers.get("Content-Length") or 0) or None
        progress = Progress(f"Downloading {url}", total)
        done = 0
        while True:
            try:
                block = response.read(_CHUNK)
            except (OSError, TimeoutError) as e:
                raise OSError(f"download broke off after {done} bytes: {e}") from None
            if not block:
                break
            f.write(block)
            done += len(block)
            progress.update(done)
        progress.close()
    if expected_size is not None and done != expected_size:
        raise OSError(f"got {done} bytes, expected {expected_size}")
