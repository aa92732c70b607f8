"""Saving and loading arrays as .npz, never with pickle."""
from __future__ import annotations

import os
import tempfile
from typing import Mapping

import numpy as np

__all__ = ["save", "load"]


def save(arrays: Mapping[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write a name -> array mapping (e.g. a state_dict) to ``path`` as .npz.

    The file is written next to its destination and renamed over it, so a crash mid-save
    leaves any previous file intact.
    """
    path = os.fspath(path)
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"save: {name!r} is not a numeric array (dtype object)")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a mapping written by :func:`save`; refuses files that carry pickled objects."""
    try:
        with np.load(os.fspath(path), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as err:
        raise ValueError(f"load: {path} holds pickled objects, which are refused: {err}") from None
