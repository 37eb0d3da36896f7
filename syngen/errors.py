"""The one exception type users see: a message that says what is wrong and what to do."""

from __future__ import annotations

import errno
import os
from pathlib import Path


class SyngenError(Exception):
    """A problem with the user's input, settings or artifacts.

    The CLI prints its message without a traceback, so the message must name the file,
    table or column concerned and, where there is one, the fix.
    """


FULL_DISK = "free some space or write elsewhere"
_HINTS = {
    errno.ENOSPC: FULL_DISK,
    errno.EDQUOT: FULL_DISK,
    errno.EFBIG: "the file system (or a limit on file sizes) allows no file this large; write elsewhere",
    errno.EACCES: "check the permissions or write elsewhere",
    errno.EPERM: "check the permissions or write elsewhere",
    errno.EROFS: "write elsewhere",
    errno.EISDIR: "give a file name",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENAMETOOLONG: "use a shorter name",
}


def os_error(error: OSError, doing: str) -> SyngenError:
    """A failed read or write as one line: ``doing`` (which names the place), the system's
    reason and what to do. Drivers (pyarrow, DuckDB) word the reason their own way; the
    error number says it plainly."""
    blocking = _file_in_the_way(error.filename) if error.errno in (errno.EEXIST, errno.ENOTDIR) else None
    if blocking is not None:
        return SyngenError(f"{doing}: '{blocking}' is a file, not a folder; write elsewhere")
    reason = os.strerror(error.errno) if error.errno else (error.strerror or str(error) or type(error).__name__)
    hint = _HINTS.get(error.errno) if error.errno is not None else None
    return SyngenError(f"{doing}: {reason[:1].lower()}{reason[1:]}" + (f"; {hint}" if hint else ""))


def _file_in_the_way(filename) -> Path | None:
    """The existing file a path needs as a folder (``a_file/out.csv``): ``mkdir`` fails on it
    with EEXIST, ``open`` below it with ENOTDIR. None when no such file is there."""
    if not isinstance(filename, (str, os.PathLike)):
        return None
    path = Path(filename)
    return next((place for place in reversed((path, *path.parents)) if place.exists() and not place.is_dir()), None)
