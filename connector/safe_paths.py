"""Files the connector writes: names that stay inside their folder, modes only we can read.

Customer ids, invoice numbers, provider keys and tenant names come from tenant files and
billing data; the moment one becomes part of a path, ``../`` or ``/`` in it could put a
statement anywhere the process may write. Every output path is therefore built by
:func:`path_under` (which refuses an escape) from names passed through
:func:`safe_name` (which encodes what a file name must not hold).

Statements, tokens and databases are confidential: what we create is ``0600`` and the
folders we create ``0700``, whatever the process umask (a service manager's default of
022 would otherwise make them world-readable).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

# What a file name may hold as it is: letters, digits, '.', '_' and '-'. '%' is encoded
# too, so two different names never encode alike.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class UnsafePathError(ValueError):
    """A path built from data would leave the folder it belongs in."""


def safe_name(text: str) -> str:
    """``text`` as one file-name component: unchanged when it is made only of letters,
    digits, ``.``, ``_`` and ``-`` (and does not start with ``.``); otherwise every
    other character (``/``, ``\\``, ``%``, spaces, a leading dot...) is percent-encoded
    as UTF-8, so ``../x`` becomes ``%2E.%2Fx``. Never empty.
    """
    encoded = _UNSAFE.sub(
        lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8")), text
    )
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    return encoded or "_"


def path_under(folder: Path | str, *parts: str) -> Path:
    """``folder / part / ...``, resolved, refusing any result outside ``folder``.

    :raises UnsafePathError: a part is absolute, climbs out with ``..``, or a symbolic
        link inside ``folder`` leads elsewhere.
    """
    base = Path(folder).resolve()
    target = base.joinpath(*parts).resolve()
    if target == base or not target.is_relative_to(base):
        shown = "/".join(parts)
        raise UnsafePathError(
            f"refusing to write {shown!r}: it would land outside {base} (names that become "
            "file names may not contain '/', '\\' or '..')"
        )
    return target


def private_dir(path: Path | str) -> Path:
    """Create ``path`` and any missing parents as ``0700`` folders; existing folders
    (``--output /tmp`` say) keep their mode."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # made by a concurrent writer meanwhile
            continue
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    return path


def create_private_file(path: Path | str) -> bool:
    """Create ``path`` empty as ``0600`` (its folders ``0700``) unless it exists;
    returns whether it was created. For files another library opens afterwards (SQLite)."""
    path = Path(path)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return True


def write_private(path: Path | str, data: bytes) -> None:
    """Write ``path`` whole or not at all, as ``0600`` (temp file in the same folder,
    then rename); missing folders are created ``0700``."""
    path = Path(path)
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
