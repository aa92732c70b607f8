"""Checkpoints: nested dicts and lists of arrays and plain values, in an .npz file, never pickled.

    tc.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    checkpoint = tc.load("ckpt.npz")

Arrays are stored as the archive's members; everything else, the structure and a SHA-256 of
every array, goes in a JSON header member. Writing is atomic (see npz.py). Loading treats the
file as hostile: sizes are checked before allocating, pickles are refused, and the header, the
structure and every checksum are validated, so any malformed file gives a
:class:`CheckpointError` that says what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import numpy as np

from .npz import CheckpointError, read_arrays, write_atomically

__all__ = ["save", "load", "array_digest", "CheckpointError", "FORMAT_VERSION", "MAX_DEPTH"]

FORMAT_VERSION = 2
MAX_DEPTH = 100
"""Deepest nesting of dicts, lists and tuples a checkpoint may hold."""
MAX_HEADER_BYTES = 16 * 2**20
"""Largest JSON header (the structure and every non-array value) a checkpoint may have."""
_HEADER = "__header__"


def array_digest(array: np.ndarray, version: int = 2) -> str:
    """SHA-256 of an array's dtype, shape and bytes (format 1 hashed the bytes alone, so a
    reshaped array passed its check)."""
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode() if version >= 2 else b"")
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _encode(value: Any, arrays: dict[str, np.ndarray], where: str, depth: int = 0) -> Any:
    """JSON-able description of ``value``; arrays are moved to ``arrays`` and referenced."""
    if depth > MAX_DEPTH:
        raise TypeError(f"save: {where} is nested deeper than {MAX_DEPTH} levels")
    if hasattr(value, "data") and isinstance(value.data, np.ndarray):  # a Tensor
        value = value.data
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise TypeError(
                f"save: {where} is an array of dtype {value.dtype}; only numeric arrays are stored"
            )
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"save: {where} has a non-string key; dictionary keys must be strings")
        return {
            "__dict__": [
                [k, _encode(v, arrays, f"{where}[{k!r}]", depth + 1)] for k, v in value.items()
            ]
        }
    if isinstance(value, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
        return {"__tuple__" if isinstance(value, tuple) else "__list__": items}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"save: {where} is a {type(value).__name__}; checkpoints hold arrays, numbers, strings, "
        f"None, and dicts, lists and tuples of them"
    )


_CONTAINERS = ("__array__", "__dict__", "__tuple__", "__list__")


def _decode(tree: Any, arrays: dict[str, np.ndarray], path: str, depth: int = 0) -> Any:
    """Rebuild what :func:`_encode` described, checking every node: a hostile header gets a
    CheckpointError naming what is wrong, never a KeyError or a RecursionError."""
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if depth > MAX_DEPTH:
        raise CheckpointError(f"load: {path} has a structure nested deeper than {MAX_DEPTH} levels")
    if not (isinstance(tree, dict) and len(tree) == 1 and next(iter(tree)) in _CONTAINERS):
        raise CheckpointError(f"load: {path} has a malformed structure: unexpected {_sketch(tree)}")
    ((kind, body),) = tree.items()
    if kind == "__array__":
        if not isinstance(body, str) or body not in arrays:
            raise CheckpointError(
                f"load: {path} refers to an array {_sketch(body)} it does not hold"
            )
        return arrays[body]
    if not isinstance(body, list):
        raise CheckpointError(
            f"load: {path} has a malformed structure: {kind} holds {_sketch(body)}"
        )
    if kind == "__dict__":
        if not all(
            isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in body
        ):
            raise CheckpointError(
                f"load: {path} has a malformed structure: a dict entry is not a [key, value] pair"
            )
        return {k: _decode(v, arrays, path, depth + 1) for k, v in body}
    items = [_decode(v, arrays, path, depth + 1) for v in body]
    return tuple(items) if kind == "__tuple__" else items


def _sketch(value: Any) -> str:
    """A short description of a bad header value for an error message."""
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (arrays, tensors, numbers, strings, None, and dicts/lists/tuples of them)
    to ``path`` atomically.

    A symlink at ``path`` is written through (the file it points to is replaced, the link
    stays); a folder, device or pipe there is refused with a CheckpointError.
    """
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, "obj")
    header = {
        "format": "tinygrad_cnn",
        "version": FORMAT_VERSION,
        "tree": tree,
        "sha256": {name: array_digest(a) for name, a in arrays.items()},
    }
    members = {**arrays, _HEADER: np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)}
    write_atomically(os.fspath(path), members)


def load(path: str | os.PathLike) -> Any:
    """Read what :func:`save` wrote (a plain .npz of arrays reads as a dict of them)."""
    path = os.fspath(path)
    members = read_arrays(path)
    if _HEADER not in members:
        return members
    header = _parse_header(path, members.pop(_HEADER))
    missing = sorted(set(header["sha256"]) - set(members))
    unexpected = sorted(set(members) - set(header["sha256"]))
    if missing or unexpected:
        raise CheckpointError(
            f"load: {path} is corrupted: "
            + "; ".join(
                text
                for text in (
                    missing and f"members {missing} are missing",
                    unexpected and f"members {unexpected} have no checksum",
                )
                if text
            )
        )
    for name, digest in header["sha256"].items():
        if array_digest(members[name], header["version"]) != digest:
            raise CheckpointError(
                f"load: {path} is corrupted: member {name!r} does not match its checksum"
            )
    return _decode(header["tree"], members, path)


def _parse_header(path: str, raw: np.ndarray) -> dict:
    """The JSON header, checked field by field."""
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(
            f"load: {path} has an unknown header (an array of {raw.dtype} {raw.shape})"
        )
    if raw.size > MAX_HEADER_BYTES:  # parsed JSON takes up to ~30 times its text in memory
        raise CheckpointError(
            f"load: {path} has a header of {raw.size} bytes, more than {MAX_HEADER_BYTES}"
        )
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise CheckpointError(f"load: {path} has an unknown header (not UTF-8 text)") from None
    except ValueError as err:  # not JSON, or a number past Python's digit limit
        raise CheckpointError(f"load: {path} has an unknown header (not JSON: {err})") from None
    except RecursionError:
        raise CheckpointError(f"load: {path} has a header nested too deeply to read") from None
    if not isinstance(header, dict) or header.get("format") != "tinygrad_cnn":
        raise CheckpointError(f"load: {path} has an unknown header")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"load: {path} has an unknown header (version {_sketch(version)})")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"load: {path} was written in checkpoint format {version}; "
            f"this version of tinygrad_cnn reads format {FORMAT_VERSION} and older"
        )
    checksums = header.get("sha256")
    if not (isinstance(checksums, dict) and all(isinstance(d, str) for d in checksums.values())):
        raise CheckpointError(
            f"load: {path} has a malformed header: sha256 is {_sketch(checksums)}"
        )
    if "tree" not in header:
        raise CheckpointError(f"load: {path} has a malformed header: no tree")
    return header
