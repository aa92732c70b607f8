"""The .npz archive underneath checkpoints, written atomically and read as a hostile file.

Writing: a temporary file beside the target, fsynced, given the mode the target would have,
then renamed over it; a symlink is written through to its target, and anything that is not a
regular file (a device, a folder, a pipe) is refused. Reading: every size an archive declares is
checked against the bytes it holds before anything is allocated, so a small file cannot claim
gigabytes, and every malformation becomes a :class:`CheckpointError` that says what is wrong.
"""
from __future__ import annotations

import math
import os
import secrets
import stat
import zipfile
from typing import BinaryIO

import numpy as np

__all__ = ["CheckpointError", "write_atomically", "read_arrays"]

# A compressed member may expand to this many times its compressed size, or to
# SMALL_MEMBER bytes, whichever is larger: enough for any real array, not for a deflate bomb.
EXPANSION_LIMIT = 32
SMALL_MEMBER = 64 * 2**20


class CheckpointError(ValueError):
    """A checkpoint cannot be written (the target is not a regular file) or read: not a
    checkpoint, truncated, corrupted, hostile, from a newer format, or pickled."""


# ---- writing ---------------------------------------------------------------------------------
def write_atomically(path: str, members: dict[str, np.ndarray]) -> None:
    """Write ``members`` as an .npz at ``path`` (or at the file a symlink there points to), so
    that a reader sees the old file or the new one, never a mix.

    A new file gets the mode the umask gives; an existing one keeps its mode.
    """
    target = os.path.realpath(path)
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise CheckpointError(f"save: {path} is {_kind(existing.st_mode)}, not a regular file; "
                              f"checkpoints are written only to regular files")
    folder, name = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    _remove_stale_temporaries(folder, name)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide, as for any new file (mkstemp would force 0o600)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **members)
            f.flush()
            os.fsync(f.fileno())
        if existing is not None:
            os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    _sync_folder(folder)


def _kind(mode: int) -> str:
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device",
             stat.S_ISFIFO: "a named pipe", stat.S_ISSOCK: "a socket"}
    return next((text for test, text in kinds.items() if test(mode)), "not a regular file")


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Delete temporaries of ``name`` left by writers that died (SIGKILL mid-save); a live
    writer's temporary, recognised by its process id, is left alone."""
    if os.name != "posix":
        return
    prefix = f".{name}."
    for entry in os.listdir(folder):
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        pid = entry[len(prefix):-len(".tmp")].partition("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            try:
                os.unlink(os.path.join(folder, entry))
            except FileNotFoundError:  # another writer cleaned it up first
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
    with open(path, "rb") as f:
        _check_magic(path, f.read(4))
        f.seek(0)
        try:
            return _read_members(path, f)
        except CheckpointError:
            raise
        except Exception as err:  # hostile bytes break zipfile and numpy's parser in many ways
            raise CheckpointError(f"load: {path} is not a readable checkpoint (truncated or corrupted?): "
                                  f"{type(err).__name__}: {err}") from None


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
    with zipfile.ZipFile(f) as archive:
        infos = archive.infolist()
        _check_entry_count(path, f, len(infos))
        if any(info.filename.endswith("data.pkl") for info in infos):
            raise CheckpointError(
                f"load: {path} is a PyTorch file (torch.save); load it with torch.load, then convert "
                f"each tensor with .numpy() (tc.Tensor(t.detach().numpy()), or a state_dict of arrays "
                f"for Module.load_state_dict)"
            )
        for info in infos:
            name = info.filename
            if not name.endswith(".npy") or name[:-4] in arrays:
                raise CheckpointError(f"load: {path} is not a checkpoint: member {name!r} is "
                                      f"{'repeated' if name[:-4] in arrays else 'not an .npy array'}")
            _check_member_size(path, info)
            with archive.open(info) as member:
                _check_array_header(path, info, member)
            with archive.open(info) as member:
                arrays[name[:-4]] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _check_entry_count(path: str, f: BinaryIO, found: int) -> None:
    """The end record's count of members must match the directory zipfile read: a damaged
    directory entry can otherwise hide the members after it (the header among them)."""
    f.seek(0, os.SEEK_END)
    f.seek(max(0, f.tell() - 22 - 65535))  # the end record: 22 bytes and a comment of up to 64 KiB
    tail = f.read()
    end = tail.rfind(b"PK\x05\x06")
    declared = int.from_bytes(tail[end + 10:end + 12], "little")
    if declared != 0xFFFF and declared != found:  # 0xFFFF: the count is in the zip64 record
        raise CheckpointError(f"load: {path} is corrupted: its zip directory lists {found} members, "
                              f"its end record {declared}")


def _check_member_size(path: str, info: zipfile.ZipInfo) -> None:
    """The bytes a member will expand to are bounded by the bytes it takes in the file."""
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise CheckpointError(f"load: {path} is corrupted: stored member {info.filename!r} declares "
                                  f"{info.file_size} bytes but takes {info.compress_size}")
        return
    limit = max(SMALL_MEMBER, EXPANSION_LIMIT * info.compress_size)
    if info.file_size > limit:
        raise CheckpointError(f"load: {path} is refused: compressed member {info.filename!r} would expand "
                              f"from {info.compress_size} to {info.file_size} bytes (more than {limit})")


def _check_array_header(path: str, info: zipfile.ZipInfo, member: BinaryIO) -> None:
    """An array's declared shape and dtype must account for exactly the member's bytes, and
    its dtype must hold no Python objects, before numpy allocates anything."""
    version = np.lib.format.read_magic(member)
    if version not in ((1, 0), (2, 0)):
        raise CheckpointError(f"load: {path}: member {info.filename!r} has .npy format {version}, "
                              f"which is not read here")
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(member)
    if dtype.hasobject:
        raise CheckpointError(f"load: {path} holds pickled objects, which are refused")
    declared = math.prod(shape) * dtype.itemsize
    if member.tell() + declared != info.file_size:
        raise CheckpointError(f"load: {path} is corrupted: member {info.filename!r} declares shape {shape} "
                              f"of {dtype} ({declared} bytes) but holds {info.file_size - member.tell()} bytes")
