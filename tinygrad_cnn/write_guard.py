"""Saved arrays are read-only until backward has used them.

An op's ``save_for_backward`` locks the memory behind each array it keeps, so an in-place
write (through a tensor's ``.data`` or any view of it) fails at the write instead of silently
changing a gradient later; ``release`` unlocks it. Several nodes may save views of the same
memory: a count per root array unlocks it when the last one lets go. Threads may save and
release at once, hence the lock around the count.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["lock", "unlock", "is_saved", "root_of"]

# Root array (the one owning the memory) -> [root, number of unreleased nodes saving it].
_locked: dict[int, list] = {}
_locked_guard = threading.Lock()  # threads may save, and release, views of the same array


def lock(array: Any) -> np.ndarray | None:
    """Make the memory behind a saved array read-only; returns the root array it locked."""
    if type(array) is not np.ndarray:
        return None
    root = root_of(array)
    if root.base is not None:  # memory numpy does not own (bytes, mmap): its flag may not come back
        return None
    if not root.flags.writeable and id(root) not in _locked:
        return None  # read-only from birth (an operator's scalar, a broadcast): nothing to guard
    with _locked_guard:
        entry = _locked.get(id(root))
        if entry is not None:
            entry[1] += 1
            return root
        if not root.flags.writeable:
            return None
        _locked[id(root)] = [root, 1]  # registered before the flag turns, for the check above
        root.setflags(write=False)
    return root


def is_saved(array: np.ndarray) -> bool:
    """Whether a recorded graph keeps this array's memory (its own or the one it views)."""
    return id(root_of(array)) in _locked


def root_of(array: np.ndarray) -> np.ndarray:
    """The array at the end of a view's ``base`` chain: the one whose memory the view shows."""
    while type(array.base) is np.ndarray:
        array = array.base
    return array


def unlock(root: np.ndarray) -> None:
    """Undo one :func:`lock` of ``root``; the last one makes it writable again."""
    with _locked_guard:
        entry = _locked[id(root)]
        entry[1] -= 1
        if entry[1] == 0:
            del _locked[id(root)]
            root.setflags(write=True)
