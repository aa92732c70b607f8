"""Fetching a dataset's files once: mirrors tried in order, content checked, written atomically.

A file is looked for first in the dataset's cache folder, then in system folders (such as
Debian's ``/usr/share/datasets/fashion-mnist``), and downloaded only when neither has it. Every
file found or fetched is checked against its :class:`Resource` before it is read: the SHA-256 of
its decompressed content (so a recompressed copy of the same data passes) and/or the MD5 of the
bytes as served. A download is streamed into a temporary file beside the target and renamed into
place only once it has checked out, so an interrupted or corrupt download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ..npz import replace_file

__all__ = [
    "Resource",
    "DownloadError",
    "ChecksumError",
    "DatasetNotFoundError",
    "cache_dir",
    "offline",
    "fetch",
    "DATA_VARIABLE",
    "OFFLINE_VARIABLE",
]

DATA_VARIABLE = "TINYGRAD_CNN_DATA"
"""Environment variable naming the cache folder when no ``root`` is given."""
OFFLINE_VARIABLE = "TINYGRAD_CNN_OFFLINE"
"""Environment variable that, set to anything but ``0`` or empty, forbids the network."""

_CHUNK = 1 << 20
_TIMEOUT_S = 30  # per blocking socket operation, so a stalled mirror fails and the next is tried


@dataclass(frozen=True)
class Resource:
    """One file of a dataset, as the mirrors name it, with what its content must hash to.

    ``sha256``: of the content after gunzip when ``name`` ends in ``.gz`` (else of the bytes),
    so any gzip of the same data passes. ``md5``: of the bytes exactly as served, for files whose
    decompressed hash is not published. At least one is required.
    """

    name: str
    sha256: str | None = None
    md5: str | None = None

    def __post_init__(self):
        if self.sha256 is None and self.md5 is None:
            raise ValueError(
                f"Resource {self.name}: give sha256 (of the decompressed content) or md5"
            )


class DownloadError(OSError):
    """Every mirror failed; the message lists each URL and what went wrong there."""


class ChecksumError(ValueError):
    """A file's content does not hash to what its :class:`Resource` says."""


class DatasetNotFoundError(FileNotFoundError):
    """A file is not on this machine and may not be downloaded (offline, or ``download=False``)."""


def cache_dir(root: str | os.PathLike | None = None) -> str:
    """Where datasets live: ``root``, else ``$TINYGRAD_CNN_DATA``, else
    ``$XDG_CACHE_HOME/tinygrad_cnn`` (``~/.cache/tinygrad_cnn`` when XDG_CACHE_HOME is unset)."""
    if root is not None:
        return os.path.expanduser(os.fspath(root))
    if os.environ.get(DATA_VARIABLE):
        return os.path.expanduser(os.environ[DATA_VARIABLE])
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "tinygrad_cnn")


def offline() -> bool:
    """Whether ``$TINYGRAD_CNN_OFFLINE`` forbids downloading."""
    return os.environ.get(OFFLINE_VARIABLE, "") not in ("", "0")


class _Digest:
    """MD5 of the bytes fed in and SHA-256 of what they gunzip to (``gunzip``) or of the bytes
    themselves, in one streaming pass; nothing decompressed is kept."""

    def __init__(self, gunzip: bool):
        self.md5, self.sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
        self.inflate = zlib.decompressobj(31) if gunzip else None

    def update(self, chunk: bytes) -> None:
        self.md5.update(chunk)
        if self.inflate is None:
            self.sha256.update(chunk)
            return
        while chunk:
            # at most one chunk out at a time: a tiny file may claim gigabytes of zeros
            self.sha256.update(self.inflate.decompress(chunk, _CHUNK))
            if not self.inflate.eof:
                chunk = self.inflate.unconsumed_tail
                continue
            # several gzip members may follow each other, each needing a fresh decompressor;
            # zero bytes after the last are padding, which gzip and gunzip skip too
            chunk = self.inflate.unused_data.lstrip(b"\0")
            if chunk:
                self.inflate = zlib.decompressobj(31)

    def check(self, resource: Resource, as_served: bool, where: str) -> None:
        """ChecksumError unless the content matches ``resource``; ``as_served``: the bytes are
        the file as the mirrors serve it (not a gunzipped copy), so its MD5 applies too."""
        if self.inflate is not None and not self.inflate.eof:
            raise ChecksumError(f"{where}the gzip stream is truncated")
        if resource.sha256 is not None and self.sha256.hexdigest() != resource.sha256:
            content = "decompressed content" if self.inflate is not None else "content"
            raise ChecksumError(
                f"{where}SHA-256 of its {content} is {self.sha256.hexdigest()}, "
                f"expected {resource.sha256}"
            )
        if as_served and resource.md5 is not None and self.md5.hexdigest() != resource.md5:
            raise ChecksumError(f"{where}MD5 is {self.md5.hexdigest()}, expected {resource.md5}")


def _digest(resource: Resource, as_served: bool) -> _Digest:
    """Gunzip only where a decompressed hash is to be checked (not for an MD5-only archive)."""
    return _Digest(as_served and resource.name.endswith(".gz") and resource.sha256 is not None)


def _hash_stream(stream: BinaryIO, digest: _Digest, out: BinaryIO | None = None, bar=None) -> int:
    received = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        received += len(chunk)
        if out is not None:
            out.write(chunk)
        if bar is not None:
            bar.update(len(chunk))
    return received


def _verify_file(dataset: str, path: str, resource: Resource, as_served: bool) -> None:
    digest = _digest(resource, as_served)
    try:
        with open(path, "rb") as f:
            _hash_stream(f, digest)
        digest.check(resource, as_served, f"{dataset}: {path}: ")
    except (zlib.error, ChecksumError) as err:
        reason = f"not a valid gzip file ({err})" if isinstance(err, zlib.error) else err
        raise ChecksumError(
            f"{reason}; delete or replace the file"
            if isinstance(err, ChecksumError)
            else f"{dataset}: {path} is {reason}; delete or replace the file"
        ) from None


def _local_copy(dataset: str, resource: Resource, folders: Sequence[str]) -> str | None:
    """The first copy of ``resource`` in ``folders`` (as served, or gunzipped when its
    decompressed hash is known), checked; None when there is none."""
    candidates = [(resource.name, True)]
    if resource.name.endswith(".gz") and resource.sha256 is not None:
        candidates.append((resource.name[:-3], False))
    for folder in folders:
        for name, as_served in candidates:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                _verify_file(dataset, path, resource, as_served)
                return path
    return None


def _progress(total: int | None, name: str):
    """A tqdm bar on stderr when tqdm is installed and stderr is a terminal, else None."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(
        total=total,
        desc=name,
        unit="B",
        unit_scale=True,
        leave=False,
        file=sys.stderr,
        disable=None,
    )


def _download(url: str, path: str, resource: Resource) -> None:
    """Stream ``url`` into ``path`` through a temporary file, renamed into place only once its
    length and checksum are right."""

    def write(out: BinaryIO) -> None:
        request = urllib.request.Request(url, headers={"User-Agent": "tinygrad_cnn"})
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isdecimal() else None
            digest, bar = _digest(resource, True), _progress(expected, resource.name)
            try:
                received = _hash_stream(response, digest, out, bar)
            except http.client.IncompleteRead:  # a chunked response that stopped early
                raise ConnectionError("the connection closed before the end of the file") from None
            finally:
                if bar is not None:
                    bar.close()
        # http.client returns a short body without complaint when the server closes early
        if expected is not None and received != expected:
            raise ConnectionError(f"the connection closed after {received:,} of {expected:,} bytes")
        digest.check(resource, True, "")

    replace_file(path, write)


def _reason(err: BaseException) -> str:
    """What went wrong at one mirror, in a few words."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return f"cannot connect ({err.reason})"
    if isinstance(err, ConnectionError):
        return str(err)
    if isinstance(err, zlib.error):
        return f"not a valid gzip file ({err})"
    if isinstance(err, ChecksumError):
        return f"checksum mismatch: {err}"
    return f"{type(err).__name__}: {err}"


def _check_writable(dataset: str, folder: str, path: str) -> None:
    """An OSError naming the cache when the download could not be saved there, before any
    mirror is tried (rather than the same local failure once per mirror)."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise OSError(
            f"{dataset}: cannot create the cache folder {folder}: {err.strerror or err}"
        ) from None
    if os.path.lexists(path) and not os.path.isfile(path):
        raise OSError(f"{dataset}: {path} is in the way of the download: not a regular file")
    if not os.access(folder, os.W_OK):
        raise OSError(f"{dataset}: cannot write to the cache folder {folder}")


def fetch(
    dataset: str,
    resource: Resource,
    folder: str,
    mirrors: Sequence[str],
    system_dirs: Sequence[str] = (),
    download: bool = True,
) -> str:
    """The path of a checked copy of ``resource``: found in ``folder`` or ``system_dirs``, else
    downloaded into ``folder`` from the first of ``mirrors`` (base URLs) that serves it intact.

    Raises ChecksumError for a local copy that does not match, DatasetNotFoundError when the file
    is missing and may not be downloaded, OSError when the cache folder cannot take it,
    DownloadError when every mirror failed.
    """
    found = _local_copy(dataset, resource, [folder, *system_dirs])
    if found is not None:
        return found
    places = ", ".join([folder, *system_dirs])
    if offline():
        raise DatasetNotFoundError(
            f"{dataset}: {resource.name} is not in {places}, and {OFFLINE_VARIABLE}="
            f"{os.environ[OFFLINE_VARIABLE]} forbids downloading it"
        )
    if not download:
        raise DatasetNotFoundError(
            f"{dataset}: {resource.name} is not in {places}; pass download=True to fetch it"
        )
    path, failures = os.path.join(folder, resource.name), []
    _check_writable(dataset, folder, path)
    for mirror in mirrors:
        url = mirror + resource.name
        try:
            _download(url, path, resource)
            return path
        except (OSError, ValueError, http.client.HTTPException, zlib.error) as err:
            failures.append(f"  {url}: {_reason(err)}")
    raise DownloadError(
        f"{dataset}: could not download {resource.name}; every mirror failed:\n"
        + "\n".join(failures)
    )
