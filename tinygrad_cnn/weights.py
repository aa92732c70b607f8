"""Weights in the safetensors format, under PyTorch's names and layouts, so they travel both
ways: ``torch.nn.Module.load_state_dict(safetensors.torch.load_file(path))`` reads what
:func:`save_weights` writes, and :func:`load_weights` reads what ``safetensors.torch.save_file``
wrote for the same architecture.

    tc.save_weights(model, "model.safetensors")
    tc.load_weights(model, "model.safetensors")

Only the state_dict travels; a full training checkpoint (optimizer, schedule, random state)
stays in :func:`tinygrad_cnn.save`'s format. Needs the ``safetensors`` package
(``pip install safetensors``, or the ``[interop]`` extra).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .npz import CheckpointError, replace_file
from .serialization import array_digest

__all__ = ["save_weights", "load_weights", "read_weights"]

_DIGESTS = "tinygrad_cnn.sha256"


def _safetensors():
    """The safetensors package (imported on first use: the core needs numpy only)."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise ImportError(
            "save_weights/load_weights need the safetensors package: pip install safetensors "
            "(or tinygrad_cnn[interop])"
        ) from None
    return safetensors


def save_weights(weights: Any, path: str | os.PathLike) -> None:
    """Write a Module's ``state_dict()`` (or a dict of arrays or Tensors) to ``path`` as
    safetensors, atomically. The metadata says ``format: pt`` (what PyTorch's loaders expect),
    which version wrote it, and a SHA-256 of every tensor."""
    from . import __version__

    state = weights.state_dict() if hasattr(weights, "state_dict") else weights
    if not isinstance(state, dict):
        raise TypeError(
            f"save_weights: expected a Module or a dict of arrays, got {type(weights).__name__}"
        )
    arrays = {}
    for name, value in state.items():
        array = np.asarray(getattr(value, "data", value))
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"save_weights: {name!r} has dtype {array.dtype}; safetensors holds numbers"
            )
        if (
            array.dtype.byteorder == ">"
        ):  # safetensors stores little-endian: digest what it will hold
            array = array.astype(array.dtype.newbyteorder("<"))
        arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")  # 0-d stays 0-d
    metadata = {
        "format": "pt",
        "tinygrad_cnn": __version__,
        _DIGESTS: json.dumps({name: array_digest(a) for name, a in arrays.items()}),
    }
    blob = _safetensors().numpy.save(arrays, metadata=metadata)
    replace_file(os.fspath(path), lambda f: f.write(blob))


def read_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a safetensors file, by name; their checksums are verified when the file
    carries ours (files from PyTorch carry none). Anything malformed is a CheckpointError."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    library = _safetensors()
    try:
        arrays = library.numpy.load(raw)
        metadata = _metadata(raw)
    except KeyError as err:  # a dtype numpy has no twin for, such as BF16
        raise CheckpointError(
            f"load_weights: {path} holds dtype {err} that numpy cannot represent; convert "
            f"it in PyTorch first (state_dict values .float())"
        ) from None
    except (library.SafetensorError, ValueError, AttributeError, TypeError, OverflowError) as err:
        raise CheckpointError(
            f"load_weights: {path} is not a readable safetensors file: {err}"
        ) from None
    if "tinygrad_cnn" in metadata and _DIGESTS not in metadata:
        raise CheckpointError(
            f"load_weights: {path} was written by tinygrad_cnn but its checksums are missing"
        )
    if _DIGESTS in metadata:
        try:
            digests = json.loads(metadata[_DIGESTS])
        except ValueError:
            raise CheckpointError(f"load_weights: {path} has unreadable checksums") from None
        if not isinstance(digests, dict) or set(digests) != set(arrays):
            raise CheckpointError(
                f"load_weights: {path}: its checksums do not list exactly its tensors"
            )
        for name, array in arrays.items():
            if array_digest(array) != digests[name]:
                raise CheckpointError(
                    f"load_weights: {path} is corrupted: tensor {name!r} does not match "
                    f"its checksum"
                )
    return arrays


def _metadata(raw: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file: 8 bytes of header length, then JSON."""
    length = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + length])
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise ValueError("__metadata__ is not a mapping")
    return metadata


def load_weights(module: Any, path: str | os.PathLike) -> Any:
    """Load a safetensors file into ``module`` with ``load_state_dict`` (which checks every name
    and shape before changing anything); returns the module."""
    module.load_state_dict(read_weights(path))
    return module
