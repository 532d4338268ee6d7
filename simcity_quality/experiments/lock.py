"""One writer per result store: an exclusive OS lock (``fcntl.flock``) on ``STORE/lock``.

The sweep's main process takes the lock when it opens the store and holds it until the sweep
ends. The OS releases it when that process ends in any way (kill -9 included), so a crash never
leaves a lock that needs clearing by hand; the lock file's content, which names the holder
(process id, host, start time, command), is emptied on a clean release, so content found by the
next writer is a stale lock of a crashed sweep, which it reports and takes over.

The descriptor is close-on-exec and worker processes are started by exec (the forkserver, Dask's
spawn), so no worker ever holds it: a worker that outlived its parent could not keep the store
locked. ``flock`` is POSIX (Linux here); on NFS Linux emulates it with fcntl locks.
"""

import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import SimcityQualityError

LOCK_FILE = "lock"
# `simcity-quality check` takes a shared lock for an instant; a writer retries that long
_RETRIES, _PAUSE = 10, 0.05


class StoreLocked(SimcityQualityError):
    """Another process is writing the store."""


@dataclass
class Holder:
    """Who holds (or last held) a store's lock."""

    pid: int | None
    host: str
    started: str
    command: str

    def describe(self) -> str:
        """``process 1234 on host h (since ..., running `...`)``."""
        return (f"process {self.pid} on host {self.host or '?'} (since {self.started or '?'}"
                + (f", running `{self.command}`" if self.command else "") + ")")


def _holder(text: str) -> Holder | None:
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return Holder(None, "", "", f"unreadable lock content {text[:60]!r}")
    if not isinstance(data, dict):
        return Holder(None, "", "", "")
    return Holder(data.get("pid"), str(data.get("host", "")), str(data.get("started", "")),
                  str(data.get("command", "")))


def _read(fd: int) -> str:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0).decode("utf-8", "replace") if size else ""


class StoreLock:
    """The exclusive lock of the store at ``path``: :meth:`acquire`, then :meth:`release`."""

    def __init__(self, path: Path):
        self.file = Path(path) / LOCK_FILE
        self.fd: int | None = None
        self.stale: Holder | None = None  # the crashed holder whose lock this one took over

    def acquire(self, command: str = "") -> "StoreLock":
        """Take the lock or raise :class:`StoreLocked` naming the process that holds it."""
        try:
            fd = os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise SimcityQualityError(
                f"{self.file.parent}: cannot write to this result store ({exc.strerror or exc});"
                " nothing was changed. Choose a folder you can write to.") from None
        for attempt in range(_RETRIES):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == _RETRIES - 1:
                    holder = _holder(_read(fd))
                    os.close(fd)
                    raise StoreLocked(locked_message(self.file.parent, holder)) from None
                time.sleep(_PAUSE)
        self.fd = fd
        self.stale = _holder(_read(fd))
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": command or " ".join(sys.argv)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        os.fsync(fd)
        return self

    def release(self) -> None:
        """Empty the lock file (a clean end) and release the lock."""
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
        finally:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None


def locked_message(path: Path, holder: Holder | None) -> str:
    """The paragraph refusing a second writer of the store at ``path``."""
    who = holder.describe() if holder and holder.pid else "another process"
    return (f"{path}: this result store is being written by {who}; two sweeps must never "
            "write one store, so this one was refused and nothing was changed. Wait for that "
            "sweep to end (or stop it), then run this command with --resume to finish what it "
            "leaves.")


def refuse_if_locked(path: Path) -> None:
    """Raise :class:`StoreLocked` if a sweep is writing the store at ``path`` now."""
    holder = lock_holder(path)
    if holder is not None:
        raise StoreLocked(locked_message(Path(path), holder))


def lock_holder(path: Path) -> Holder | None:
    """The process writing the store at ``path`` now, or ``None`` (read-only: a shared lock
    taken for an instant tells whether an exclusive one is held)."""
    file = Path(path) / LOCK_FILE
    try:
        fd = os.open(file, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(_read(fd)) or Holder(None, "", "", "")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
