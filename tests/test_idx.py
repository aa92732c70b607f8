"""The IDX (MNIST format) reader."""

import gzip
import struct

import numpy as np
import pytest

from tinygrad_cnn.data import batches, load_idx


def write_idx(path, array, type_byte=0x08, compress=False):
    header = bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.mark.parametrize("compress", [False, True])
def test_reads_images_and_labels(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "images", images, compress=compress)
    assert np.array_equal(load_idx(tmp_path / "images"), images)


def test_reads_big_endian_floats(tmp_path):
    values = np.array([1.5, -2.0], dtype=np.float32)
    write_idx(tmp_path / "f", values, type_byte=0x0D)
    out = load_idx(tmp_path / "f")
    assert out.dtype == np.float32 and np.array_equal(out, values)


def test_rejects_other_files(tmp_path):
    (tmp_path / "x").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match=r"is not an IDX file \(bad magic number 504b0304\)"):
        load_idx(tmp_path / "x")


def test_rejects_truncated_files(tmp_path):
    write_idx(tmp_path / "t", np.zeros((4, 4), dtype=np.uint8))
    (tmp_path / "t").write_bytes((tmp_path / "t").read_bytes()[:-3])
    with pytest.raises(ValueError, match=r"has 25 bytes, its header \(4, 4\) implies 28"):
        load_idx(tmp_path / "t")


def test_batches_cover_every_sample_once():
    x, y = np.arange(10), np.arange(10) * 2
    seen = np.concatenate([yb for _, yb in batches(x, y, 3)])
    assert sorted(seen) == list(range(0, 20, 2))
    assert [len(b) for b, _ in batches(x, y, 3, drop_last=True)] == [3, 3, 3]
