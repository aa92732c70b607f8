"""CIFAR-10 from its binary distribution (never the pickled one: unpickling runs code).

The archive ``cifar-10-binary.tar.gz`` holds ``cifar-10-batches-bin/data_batch_1.bin`` to
``data_batch_5.bin`` (10,000 images each) and ``test_batch.bin``; each record is 3,073 bytes: the
label, then 1,024 red, 1,024 green and 1,024 blue pixels, each channel row by row (32 x 32).
"""

from __future__ import annotations

import os
import posixpath
import tarfile
import zlib
from collections.abc import Callable

import numpy as np

from .download import Resource, cache_dir, fetch
from .vision import ImageDataset

__all__ = ["CIFAR10"]

_RECORD = 1 + 3 * 32 * 32
_MAX_RECORDS = 10_000  # per batch file in the real archive; more is not CIFAR-10


class CIFAR10(ImageDataset):
    """CIFAR-10: 32x32 colour images in 10 classes, as ``torchvision.datasets.CIFAR10``.

    ``data`` uint8 (N, 3, 32, 32) (channels first, unlike torchvision's N x 32 x 32 x 3),
    ``targets`` int64 (N,), N = 50,000 (``train``) or 10,000. The archive lives in
    ``<cache>/CIFAR10/`` and is read in place. ``dataset[i]`` is (image float32 (3, 32, 32) in
    [0, 1] after ``transform``, label).
    """

    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    # The MD5 the dataset's authors publish for the archive (www.cs.toronto.edu/~kriz/cifar.html);
    # no SHA-256 of its content is published
    resources = {
        "archive": Resource("cifar-10-binary.tar.gz", md5="c32a1d4ab5d03f1284b67883e8d87530")
    }
    system_dirs: tuple[str, ...] = ()
    train_members = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_members = ["test_batch.bin"]
    classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = True,
        transform: Callable | None = None,
    ):
        name = type(self).__name__
        folder = os.path.join(cache_dir(root), name)
        archive = fetch(
            name, self.resources["archive"], folder, self.mirrors, self.system_dirs, download
        )
        records = read_records(archive, self.train_members if train else self.test_members, name)
        if records[:, 0].max() >= len(self.classes):
            raise ValueError(
                f"{name}: {archive} holds label {records[:, 0].max()}, "
                f"beyond its {len(self.classes)} classes"
            )
        super().__init__(records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0], transform)
        self.root, self.train = folder, train


def read_records(archive: str, members: list[str], dataset: str = "CIFAR10") -> np.ndarray:
    """The 3,073-byte records (N, 3073) uint8 of the named batch files in a CIFAR-10 binary
    archive, in the order of ``members``; each must be a regular file of whole records."""
    try:
        return _read_records(archive, members, dataset)
    except (
        tarfile.TarError,
        EOFError,
        zlib.error,
    ) as err:  # a broken archive, named rather than a traceback
        raise ValueError(f"{dataset}: {archive} is not a readable tar.gz archive ({err})") from None


def _read_records(archive: str, members: list[str], dataset: str) -> np.ndarray:
    with tarfile.open(archive, "r:gz") as tar:
        by_name: dict[str, tarfile.TarInfo] = {}
        for m in tar.getmembers():
            if posixpath.basename(m.name) in by_name:  # which one is meant would be a guess
                raise ValueError(f"{dataset}: {archive} holds {posixpath.basename(m.name)} twice")
            by_name[posixpath.basename(m.name)] = m
        chunks = []
        for name in members:
            member = by_name.get(name)
            if member is None or not member.isfile():
                raise ValueError(f"{dataset}: {archive} has no file {name}")
            if member.size == 0 or member.size % _RECORD or member.size > _MAX_RECORDS * _RECORD:
                raise ValueError(
                    f"{dataset}: {archive}: {name} has {member.size:,} bytes, not whole "
                    f"{_RECORD}-byte records (at most {_MAX_RECORDS:,})"
                )
            chunks.append(
                np.frombuffer(tar.extractfile(member).read(), np.uint8).reshape(-1, _RECORD)
            )
    return np.concatenate(chunks)
