"""Checkpoints: nested dicts and lists of arrays and plain values, in an .npz file, never pickled.

    tc.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    checkpoint = tc.load("ckpt.npz")

Arrays are stored as the archive's members; everything else, the structure and a SHA-256 of
every array, goes in a JSON header member. Writing goes to a temporary file that is flushed,
fsynced and renamed over the destination, so a crash mid-save leaves the previous file intact.
Loading uses ``allow_pickle=False``, checks the format version and every checksum, and turns a
truncated or corrupted file into a :class:`CheckpointError` that says so.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

__all__ = ["save", "load", "CheckpointError", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_HEADER = "__header__"


class CheckpointError(ValueError):
    """A checkpoint cannot be read: corrupted, truncated, from a newer format, or pickled."""


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _encode(value: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """JSON-able description of ``value``; arrays are moved to ``arrays`` and referenced."""
    if hasattr(value, "data") and isinstance(value.data, np.ndarray):  # a Tensor
        value = value.data
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise TypeError(f"save: {where} is an array of dtype {value.dtype}; only numeric arrays are stored")
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"save: {where} has a non-string key; dictionary keys must be strings")
        return {"__dict__": [[k, _encode(v, arrays, f"{where}[{k!r}]")] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
        return {"__tuple__" if isinstance(value, tuple) else "__list__": items}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"save: {where} is a {type(value).__name__}; checkpoints hold arrays, numbers, strings, "
                    f"None, and dicts, lists and tuples of them")


def _decode(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if not isinstance(tree, dict):
        return tree
    if "__array__" in tree:
        return arrays[tree["__array__"]]
    if "__dict__" in tree:
        return {k: _decode(v, arrays) for k, v in tree["__dict__"]}
    if "__tuple__" in tree:
        return tuple(_decode(v, arrays) for v in tree["__tuple__"])
    return [_decode(v, arrays) for v in tree["__list__"]]


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (arrays, tensors, numbers, strings, None, and dicts/lists/tuples of them)
    to ``path`` atomically."""
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, "obj")
    header = {"format": "tinygrad_cnn", "version": FORMAT_VERSION, "tree": tree,
              "sha256": {name: _digest(a) for name, a in arrays.items()}}
    members = {**arrays, _HEADER: np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)}
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **members)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path: str | os.PathLike) -> Any:
    """Read what :func:`save` wrote (a plain .npz of arrays reads as a dict of them)."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            members = {name: archive[name] for name in archive.files}
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise CheckpointError(f"load: {path} holds pickled objects, which are refused") from None
        raise CheckpointError(f"load: {path} is not a readable checkpoint (truncated or corrupted?): {err}") from None
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise CheckpointError(f"load: {path} is not a readable checkpoint (truncated or corrupted?): {err}") from None
    if _HEADER not in members:
        if any(name.endswith("data.pkl") for name in members):
            raise CheckpointError(
                f"load: {path} is a PyTorch file (torch.save); load it with torch.load, then convert "
                f"each tensor with .numpy() (tc.Tensor(t.detach().numpy()), or a state_dict of arrays "
                f"for Module.load_state_dict)"
            )
        return members
    header = json.loads(members.pop(_HEADER).tobytes())
    if header.get("format") != "tinygrad_cnn" or not isinstance(header.get("version"), int):
        raise CheckpointError(f"load: {path} has an unknown header")
    if header["version"] > FORMAT_VERSION:
        raise CheckpointError(f"load: {path} was written in checkpoint format {header['version']}; "
                              f"this version of tinygrad_cnn reads format {FORMAT_VERSION} and older")
    for name, digest in header["sha256"].items():
        if name not in members or _digest(members[name]) != digest:
            raise CheckpointError(f"load: {path} is corrupted: member {name!r} does not match its checksum")
    return _decode(header["tree"], members)
