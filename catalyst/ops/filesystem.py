"""Filesystem failures on the state directory and its files, translated into `StorageUnusable`.

Every file Catalyst writes lives in `paths.state_dir` (the SQLite journal, the PAUSE flag, the
FLATTEN request). When one cannot be written, the operator needs the path and what to do about it,
not an OSError traceback. Pure: no I/O, so any edge (ops, store) can call it.
"""

from __future__ import annotations

import errno

from catalyst.domain.errors import StorageUnusable

__all__ = ["unusable_path"]

_REMEDY = {
    errno.EACCES: "permission denied: make it writable by the user Catalyst runs as",
    errno.EPERM: "operation not permitted: make it writable by the user Catalyst runs as",
    errno.EROFS: "the filesystem is read-only: remount it read-write or set paths.state_dir",
    errno.EEXIST: "a file is in the way of a directory: move the file or set paths.state_dir",
    errno.ENOTDIR: "a file is in the way of a directory: move the file or set paths.state_dir",
    errno.EISDIR: "a directory is in the way of a file: move it away",
    errno.ENOSPC: "the disk is full: free some space",
    errno.EDQUOT: "the disk quota is exhausted: free some space",
    errno.ENOENT: "a directory on the way does not exist: create it or set paths.state_dir",
}


def unusable_path(exc: OSError, what: str, path: object) -> StorageUnusable:
    """The one-line error for `exc`, raised while `what` (e.g. "state directory") at `path` was
    being written: names the path the system refused (`exc.filename` when it says) and the fix."""
    remedy = _REMEDY.get(exc.errno or 0, exc.strerror or str(exc))
    refused = exc.filename
    if refused is None or str(refused) == str(path):
        return StorageUnusable(f"{what} {path}: {remedy}")
    return StorageUnusable(f"{what} {path}: cannot write {refused}: {remedy}")
