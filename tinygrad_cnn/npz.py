"""The .npz archive underneath checkpoints, written atomically and read as a hostile file.

Writing: a temporary file beside the target, fsynced, given the mode the target would have,
then renamed over it; a symlink is written through to its target, and anything that is not a
regular file (a device, a folder, a pipe) is refused. Reading: every size an archive declares is
checked against the bytes it holds before anything is allocated, so a small file cannot claim
gigabytes, and every malformation becomes a :class:`CheckpointError` that says what is wrong.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
import socket
import stat
import zipfile
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

__all__ = ["CheckpointError", "write_atomically", "replace_file", "read_arrays"]

# A compressed member may expand to this many times its compressed size, or to
# SMALL_MEMBER bytes, whichever is larger: enough for any real array, not for a deflate bomb.
EXPANSION_LIMIT = 32
SMALL_MEMBER = 64 * 2**20
NUMERIC_KINDS = "biufc"  # bool, integers, floats, complex: what save writes


class CheckpointError(ValueError):
    """A checkpoint cannot be written (the target is not a regular file) or read: not a
    checkpoint, truncated, corrupted, hostile, from a newer format, or pickled."""


# ---- writing ---------------------------------------------------------------------------------
def write_atomically(path: str, members: dict[str, np.ndarray]) -> None:
    """Write ``members`` as an .npz at ``path`` (or at the file a symlink there points to), so
    that a reader sees the old file or the new one, never a mix (see :func:`replace_file`)."""
    replace_file(path, lambda f: np.savez(f, **members))


def replace_file(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Replace the file at ``path`` (or the one a symlink there points to) with what ``write``
    writes to a file object: through a temporary beside it, fsynced and renamed over it.

    A new file gets the mode the umask gives; an existing one keeps its mode.
    """
    if path.endswith(("/", os.sep)):
        raise CheckpointError(f"save: {path} names a folder; give a file name")
    try:
        target = os.path.realpath(path, strict=False)
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as err:  # a symlink loop, a path through a file, ...
        raise CheckpointError(f"save: {path}: {err.strerror or err}") from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise CheckpointError(
            f"save: {path} is {_kind(existing.st_mode)}, not a regular file; "
            f"checkpoints are written only to regular files"
        )
    folder, name = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    _remove_stale_temporaries(folder, name)
    temporary = os.path.join(
        folder, f"{_temporary_prefix(name)}{os.getpid()}-{secrets.token_hex(4)}{_HOST_SUFFIX}"
    )
    # A new file gets 0o666 less the umask, as any new file (mkstemp would force 0o600); a
    # replaced one its own mode, from the start, so the new bytes are never more readable
    mode = 0o666 if existing is None else stat.S_IMODE(existing.st_mode)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if existing is not None:
            os.chmod(temporary, mode)  # the umask may have dropped bits the old file had
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    _sync_folder(folder)


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a folder",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISFIFO: "a named pipe",
        stat.S_ISSOCK: "a socket",
    }
    return next((text for test, text in kinds.items() if test(mode)), "not a regular file")


# Temporaries are named .NAME.PID-RANDOM.HOST.tmp: a writer that dies leaves one, and only a
# writer on the same host can tell, from the process id, that its owner is gone.
_HOST_SUFFIX = f".{socket.gethostname() or 'host'}.tmp"
_MAX_PID = 1 << 22  # Linux's ceiling; anything larger is not a process id


def _temporary_prefix(name: str) -> str:
    """``.NAME.``, or a digest of a name too long to take the temporary's extra characters."""
    if len(name) > 150:
        name = hashlib.sha256(name.encode()).hexdigest()[:32]
    return f".{name}."


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Delete temporaries of ``name`` left on this host by writers that died (SIGKILL
    mid-save); a live writer's is left alone, and so is anything that cannot be removed."""
    if os.name != "posix":
        return
    prefix = _temporary_prefix(name)
    for entry in os.listdir(folder):
        if not (entry.startswith(prefix) and entry.endswith(_HOST_SUFFIX)):
            continue
        pid = entry[len(prefix) : -len(_HOST_SUFFIX)].partition("-")[0]
        if (
            not (pid.isascii() and pid.isdecimal() and int(pid) < _MAX_PID)
            or int(pid) == os.getpid()
        ):
            continue
        if not _alive(int(pid)):
            try:
                os.unlink(os.path.join(folder, entry))
            except OSError:  # another writer cleaned it up first, or it is someone else's
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (a power cut could otherwise undo it)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---- reading ---------------------------------------------------------------------------------
def read_arrays(path: str) -> dict[str, np.ndarray]:
    """The arrays of the .npz at ``path``, by name; CheckpointError for anything malformed."""
    kind = os.stat(path).st_mode  # FileNotFoundError is the caller's to handle
    if not stat.S_ISREG(kind):
        raise CheckpointError(f"load: {path} is {_kind(kind)}, not a checkpoint file")
    with open(path, "rb") as f:
        _check_magic(path, f.read(4))
        f.seek(0)
        try:
            return _read_members(path, f)
        except CheckpointError:
            raise
        except Exception as err:  # hostile bytes break zipfile and numpy's parser in many ways
            raise CheckpointError(
                f"load: {path} is not a readable checkpoint (truncated or corrupted?): "
                f"{type(err).__name__}: {err}"
            ) from None


def _check_magic(path: str, magic: bytes) -> None:
    if magic.startswith(b"PK"):
        return
    if not magic:
        reason = "is empty"
    elif magic[:1] == b"\x80":
        reason = "is a pickle file; pickled objects are refused (loading them can run any code)"
    elif magic == b"\x93NUM":
        reason = "is a single .npy array, not a checkpoint; read it with np.load"
    else:
        reason = f"is not a checkpoint: not a zip archive (it starts with {magic.hex()})"
    raise CheckpointError(f"load: {path} {reason}")


def _read_members(path: str, f: BinaryIO) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    f.seek(0, os.SEEK_END)
    budget = _Budget(path, f.tell())
    with zipfile.ZipFile(f) as archive:
        infos = archive.infolist()
        _check_entry_count(path, f, len(infos), len(archive.comment))
        if any(info.filename.endswith("data.pkl") for info in infos):
            raise CheckpointError(
                f"load: {path} is a PyTorch file (torch.save); load it with torch.load and "
                "write its state_dict with "
                "safetensors.torch.save_file(state_dict, 'model.safetensors'), then "
                "tc.load_weights(model, 'model.safetensors') (docs/interop.md)"
            )
        for info in infos:
            name = info.filename
            if not name.endswith(".npy") or name[:-4] in arrays:
                raise CheckpointError(
                    f"load: {path} is not a checkpoint: member {name!r} is "
                    f"{'repeated' if name[:-4] in arrays else 'not an .npy array'}"
                )
            budget.take(info)
            with archive.open(info) as member:
                _check_array_header(path, info, member)
            with archive.open(info) as member:
                arrays[name[:-4]] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _check_entry_count(path: str, f: BinaryIO, found: int, comment: int) -> None:
    """The end record's count of members must match the directory zipfile read: a damaged
    directory entry can otherwise hide the members after it (the header among them)."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - 22 - comment))  # the end record: 22 bytes, then the archive's comment
    record = f.read(22)
    declared = int.from_bytes(record[10:12], "little")
    if (
        record[:4] == b"PK\x05\x06" and declared != 0xFFFF and declared != found
    ):  # 0xFFFF: see zip64
        raise CheckpointError(
            f"load: {path} is corrupted: its zip directory lists {found} members, "
            f"its end record {declared}"
        )


class _Budget:
    """What the members of one archive may expand to, checked before each is read.

    A member's bytes must lie inside the file. A stored member expands to exactly its bytes;
    a compressed one at most EXPANSION_LIMIT times them, and all compressed members together
    to at most EXPANSION_LIMIT times the file (or SMALL_MEMBER bytes), so neither one bomb nor
    many small ones can make the reader allocate much more than the file's size.
    """

    def __init__(self, path: str, file_size: int):
        self.path, self.file_size = path, file_size
        self.left = max(SMALL_MEMBER, EXPANSION_LIMIT * file_size)

    def take(self, info: zipfile.ZipInfo) -> None:
        name, packed, size = info.filename, info.compress_size, info.file_size
        if info.header_offset + packed > self.file_size:
            raise CheckpointError(
                f"load: {self.path} is corrupted: member {name!r} claims {packed} bytes "
                f"at offset {info.header_offset} of a {self.file_size}-byte file"
            )
        if info.compress_type == zipfile.ZIP_STORED:
            if size != packed:
                raise CheckpointError(
                    f"load: {self.path} is corrupted: stored member {name!r} declares "
                    f"{size} bytes but takes {packed}"
                )
            return
        if size > EXPANSION_LIMIT * max(packed, 1) and size > SMALL_MEMBER or size > self.left:
            raise CheckpointError(
                f"load: {self.path} is refused: compressed member {name!r} would expand "
                f"from {packed} to {size} bytes (more than this {self.file_size}-byte "
                f"file may unpack to)"
            )
        self.left -= size


def _check_array_header(path: str, info: zipfile.ZipInfo, member: BinaryIO) -> None:
    """An array's declared shape and dtype must account for exactly the member's bytes, and
    its dtype must hold no Python objects, before numpy allocates anything."""
    version = np.lib.format.read_magic(member)
    if version not in ((1, 0), (2, 0)):
        raise CheckpointError(
            f"load: {path}: member {info.filename!r} has .npy format {version}, "
            f"which is not read here"
        )
    read_header = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    shape, _, dtype = read_header(member)
    if dtype.hasobject:
        raise CheckpointError(f"load: {path} holds pickled objects, which are refused")
    if dtype.kind not in NUMERIC_KINDS or dtype.itemsize == 0:
        raise CheckpointError(
            f"load: {path}: member {info.filename!r} has dtype {dtype}; checkpoints hold "
            f"numeric arrays only (np.load reads other .npz files)"
        )
    declared = math.prod(shape) * dtype.itemsize
    if member.tell() + declared != info.file_size:
        raise CheckpointError(
            f"load: {path} is corrupted: member {info.filename!r} declares shape {shape} "
            f"of {dtype} ({declared} bytes) but holds {info.file_size - member.tell()} bytes"
        )
