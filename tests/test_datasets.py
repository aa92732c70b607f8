"""tinygrad_cnn.datasets without the internet: a loopback HTTP server serves small synthetic
files in the real formats (IDX .gz, CIFAR-10's binary .tar.gz), with their checksums injected
through the dataset classes' ``mirrors`` and ``resources`` attributes."""

import gzip
import hashlib
import http.server
import io
import os
import tarfile
import threading

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import transforms as T
from tinygrad_cnn.cli import main
from tinygrad_cnn.data import DataLoader, TensorDataset
from tinygrad_cnn.datasets import (
    CIFAR10,
    MNIST,
    ChecksumError,
    DatasetNotFoundError,
    DownloadError,
    FashionMNIST,
    Resource,
    cache_dir,
)


# ---- synthetic files in the real formats ------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file as MNIST's: 0, 0, type 0x08 (uint8), ndim, big-endian uint32 dims, data."""
    return (
        bytes([0, 0, 8, array.ndim])
        + np.asarray(array.shape, ">u4").tobytes()
        + array.astype(np.uint8).tobytes()
    )


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A .tar.gz holding ``members`` (path: content)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return out.getvalue()


def cifar_archive(batches: dict[str, tuple[np.ndarray, np.ndarray]]) -> bytes:
    """cifar-10-binary.tar.gz holding cifar-10-batches-bin/NAME: records of a label byte, then
    the red, green and blue 32x32 planes."""
    return tar_gz(
        {
            f"cifar-10-batches-bin/{name}": np.concatenate(
                [labels[:, None], images.reshape(len(images), -1)], axis=1
            )
            .astype(np.uint8)
            .tobytes()
            for name, (images, labels) in batches.items()
        }
    )


def mnist_files(n_train=40, n_test=20, seed=0):
    """{file name: gzip bytes} of the four IDX files, and the arrays they hold."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    return {
        f"{name}.gz": gzip.compress(idx_bytes(a), mtime=0) for name, a in arrays.items()
    }, arrays


def sha256_of_content(gz: bytes) -> str:
    return hashlib.sha256(gzip.decompress(gz)).hexdigest()


@pytest.fixture
def server():
    """A loopback HTTP server: ``server.routes[path] = (status, body)`` or ``("cut", body)``
    (announces the whole body, sends half, closes); ``server.requests`` lists the paths asked
    for."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            served.requests.append(self.path)
            status, body = served.routes.get(self.path, (404, b"not found"))
            self.send_response(200 if status == "cut" else status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if status == "cut" else body)

        def log_message(self, *args):  # keep the test output clean
            pass

    served = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.routes, served.requests = {}, []
    served.url = f"http://127.0.0.1:{served.server_address[1]}"
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()


@pytest.fixture
def mnist(monkeypatch, server, tmp_path):
    """MNIST pointed at the loopback server, with the synthetic files' checksums; returns
    (root, the arrays, the gzip files)."""
    files, arrays = mnist_files()
    resources = {
        split: tuple(
            Resource(f"{prefix}-{kind}.gz", sha256_of_content(files[f"{prefix}-{kind}.gz"]))
            for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")
        )
        for split, prefix in (("train", "train"), ("test", "t10k"))
    }
    monkeypatch.setattr(MNIST, "resources", resources)
    monkeypatch.setattr(MNIST, "mirrors", [f"{server.url}/good/"])
    for name, body in files.items():
        server.routes[f"/good/{name}"] = (200, body)
    monkeypatch.delenv("TINYGRAD_CNN_OFFLINE", raising=False)
    return tmp_path / "data", arrays, files


def cache_listing(root) -> list[str]:
    folder = os.path.join(root, "MNIST")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


# ---- mirrors, cache, offline ------------------------------------------------------------------
def test_a_forbidden_then_a_corrupt_mirror_are_skipped_for_a_good_one(mnist, server, monkeypatch):
    root, arrays, files = mnist
    corrupt = gzip.compress(b"\0\0\x08\x03" + b"\1" * 100)  # a valid gzip of the wrong content
    for name in files:
        server.routes[f"/forbidden/{name}"] = (403, b"Forbidden")
        server.routes[f"/corrupt/{name}"] = (200, corrupt)
    monkeypatch.setattr(
        MNIST, "mirrors", [f"{server.url}/{m}/" for m in ("forbidden", "corrupt", "good")]
    )
    train = MNIST(root, train=True)
    assert server.requests[:3] == [
        f"/{m}/train-images-idx3-ubyte.gz" for m in ("forbidden", "corrupt", "good")
    ]
    assert np.array_equal(train.data[:, 0], arrays["train-images-idx3-ubyte"])
    # no temporaries
    assert cache_listing(root) == [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]


def test_every_mirror_failing_is_one_error_listing_each(mnist, server, monkeypatch):
    root, _, files = mnist
    server.routes["/forbidden/train-images-idx3-ubyte.gz"] = (403, b"Forbidden")
    server.routes["/corrupt/train-images-idx3-ubyte.gz"] = (200, gzip.compress(b"other data"))
    mirrors = [f"{server.url}/{m}/" for m in ("forbidden", "corrupt", "missing")]
    monkeypatch.setattr(MNIST, "mirrors", mirrors)
    with pytest.raises(DownloadError) as caught:
        MNIST(root)
    lines = str(caught.value).splitlines()
    assert lines[0] == "MNIST: could not download train-images-idx3-ubyte.gz; every mirror failed:"
    assert lines[1] == f"  {mirrors[0]}train-images-idx3-ubyte.gz: HTTP 403 Forbidden"
    assert lines[2].startswith(
        f"  {mirrors[1]}train-images-idx3-ubyte.gz: checksum mismatch: SHA-256 of its "
        f"decompressed content is {hashlib.sha256(b'other data').hexdigest()}, expected "
    )
    assert lines[3] == f"  {mirrors[2]}train-images-idx3-ubyte.gz: HTTP 404 Not Found"
    assert cache_listing(root) == []  # the corrupt download is not left behind


def test_a_cached_file_is_never_fetched_again(mnist, server):
    root, arrays, _ = mnist
    MNIST(root, train=False)
    asked = len(server.requests)
    assert asked == 2
    again = MNIST(root, train=False)
    assert len(server.requests) == asked  # no request at all
    assert np.array_equal(again.targets, arrays["t10k-labels-idx1-ubyte"])


def test_a_download_cut_midway_leaves_nothing_in_the_cache(mnist, server):
    root, _, files = mnist
    name = "train-images-idx3-ubyte.gz"
    server.routes[f"/good/{name}"] = ("cut", files[name])
    with pytest.raises(
        DownloadError,
        match=rf"{name}: the connection closed after {len(files[name]) // 2:,} "
        rf"of {len(files[name]):,} bytes",
    ):
        MNIST(root)
    assert cache_listing(root) == []


def test_a_checksum_mismatch_leaves_no_file(mnist, server):
    root, _, files = mnist
    name = "train-labels-idx1-ubyte.gz"
    server.routes[f"/good/{name}"] = (200, gzip.compress(idx_bytes(np.zeros(40, np.uint8))))
    with pytest.raises(DownloadError, match=f"{name}: checksum mismatch"):
        MNIST(root)
    # the good file stays, the bad one never lands
    assert cache_listing(root) == ["train-images-idx3-ubyte.gz"]


def test_offline_mode_forbids_the_network_but_reads_the_cache(mnist, server, monkeypatch):
    root, _, _ = mnist
    monkeypatch.setenv("TINYGRAD_CNN_OFFLINE", "1")
    with pytest.raises(
        DatasetNotFoundError,
        match=r"MNIST: train-images-idx3-ubyte.gz is not in .*MNIST, and "
        r"TINYGRAD_CNN_OFFLINE=1 forbids downloading it",
    ):
        MNIST(root)
    assert server.requests == []
    monkeypatch.setenv("TINYGRAD_CNN_OFFLINE", "0")
    MNIST(root)
    monkeypatch.setenv("TINYGRAD_CNN_OFFLINE", "1")
    assert len(MNIST(root)) == 40  # from the cache, offline


def test_download_false_never_downloads(mnist, server):
    root, _, _ = mnist
    with pytest.raises(DatasetNotFoundError, match="pass download=True"):
        MNIST(root, download=False)
    assert server.requests == []


def test_files_already_in_a_local_folder_are_used_without_network(mnist, server, tmp_path):
    _, arrays, files = mnist
    root = tmp_path / "mine"
    (root / "MNIST").mkdir(parents=True)
    for name, body in files.items():  # gunzipped copies pass too: the hash is of the content
        (root / "MNIST" / name[:-3]).write_bytes(gzip.decompress(body))
    assert np.array_equal(MNIST(root).targets, arrays["train-labels-idx1-ubyte"])
    assert server.requests == []


def test_a_system_package_folder_is_used_without_network(mnist, server, tmp_path, monkeypatch):
    root, arrays, files = mnist
    package = tmp_path / "usr-share-datasets"
    package.mkdir()
    for (
        name,
        body,
    ) in files.items():  # recompressed, as Debian ships them: other gzip bytes, same content
        (package / name).write_bytes(
            gzip.compress(gzip.decompress(body), compresslevel=1, mtime=12345)
        )
    monkeypatch.setattr(MNIST, "system_dirs", (str(package),))
    assert np.array_equal(MNIST(root, train=False).data[:, 0], arrays["t10k-images-idx3-ubyte"])
    assert server.requests == [] and cache_listing(root) == []


def test_a_corrupt_local_file_is_an_error_naming_it(mnist, server):
    root, _, _ = mnist
    (root / "MNIST").mkdir(parents=True)
    bad = root / "MNIST" / "train-images-idx3-ubyte.gz"
    bad.write_bytes(gzip.compress(b"tampered"))
    with pytest.raises(
        ChecksumError,
        match=rf"MNIST: {bad}: SHA-256 of its decompressed content is "
        rf"{hashlib.sha256(b'tampered').hexdigest()}.*delete or replace the file",
    ):
        MNIST(root)
    bad.write_bytes(b"\x1f\x8bnot gzip at all")
    with pytest.raises(ChecksumError, match=rf"MNIST: {bad} is not a valid gzip file"):
        MNIST(root)
    assert server.requests == []


def test_the_cache_folder_is_root_then_the_variable_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("TINYGRAD_CNN_DATA", raising=False)
    assert cache_dir() == str(tmp_path / "xdg" / "tinygrad_cnn")
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(tmp_path / "env"))
    assert cache_dir() == str(tmp_path / "env")
    assert cache_dir(tmp_path / "root") == str(tmp_path / "root")


def test_a_resource_needs_a_checksum():
    with pytest.raises(ValueError, match="Resource x.gz: give sha256"):
        Resource("x.gz")


# ---- parsing the real layouts -----------------------------------------------------------------
def test_mnist_parses_idx_as_torchvision_does(mnist):
    root, arrays, _ = mnist
    train = MNIST(root)
    assert (
        train.data.shape == (40, 1, 28, 28)
        and train.data.dtype == np.uint8
        and train.targets.dtype == np.int64
    )
    image, label = train[3]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    np.testing.assert_array_equal(
        image[0], arrays["train-images-idx3-ubyte"][3].astype(np.float32) / 255
    )
    assert label == arrays["train-labels-idx1-ubyte"][3] and type(label) is int
    assert train.classes[0] == "0 - zero" and len(FashionMNIST.classes) == 10


def serve_cifar(monkeypatch, server, archive: bytes) -> None:
    """The loopback mirror serves ``archive`` as cifar-10-binary.tar.gz, with its MD5 expected."""
    server.routes["/kriz/cifar-10-binary.tar.gz"] = (200, archive)
    monkeypatch.setattr(
        CIFAR10,
        "resources",
        {"archive": Resource("cifar-10-binary.tar.gz", md5=hashlib.md5(archive).hexdigest())},
    )


def cifar_setup(monkeypatch, server, tmp_path, batch=6):
    rng = np.random.default_rng(1)
    batches = {
        name: (rng.integers(0, 256, (batch, 3, 32, 32)), rng.integers(0, 10, batch))
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    }
    monkeypatch.setattr(CIFAR10, "mirrors", [f"{server.url}/kriz/"])
    serve_cifar(monkeypatch, server, cifar_archive(batches))
    return tmp_path / "data", batches


def test_cifar10_reads_the_binary_records(monkeypatch, server, tmp_path):
    root, batches = cifar_setup(monkeypatch, server, tmp_path)
    train, test = CIFAR10(root, train=True), CIFAR10(root, train=False)
    assert len(train) == 30 and len(test) == 6 and train.data.shape == (30, 3, 32, 32)
    images, labels = batches["data_batch_2.bin"]  # images 6..11, in batch order
    np.testing.assert_array_equal(train.data[6:12], images)
    np.testing.assert_array_equal(train.targets[6:12], labels)
    # the label byte, then R, G, B planes
    record = cifar_archive({"test_batch.bin": batches["test_batch.bin"]})
    with tarfile.open(fileobj=io.BytesIO(record)) as tar:
        first = tar.extractfile("cifar-10-batches-bin/test_batch.bin").read(3073)
    assert test.targets[0] == first[0]
    # green
    np.testing.assert_array_equal(
        test.data[0, 1].ravel(), np.frombuffer(first[1025:2049], np.uint8)
    )
    assert test.classes[9] == "truck"
    # the archive once, read for both splits
    assert server.requests == ["/kriz/cifar-10-binary.tar.gz"]


def test_cifar10_refuses_a_batch_of_partial_records(monkeypatch, server, tmp_path):
    root, _ = cifar_setup(monkeypatch, server, tmp_path)
    serve_cifar(monkeypatch, server, tar_gz({"cifar-10-batches-bin/test_batch.bin": bytes(3000)}))
    with pytest.raises(
        ValueError, match="test_batch.bin has 3,000 bytes, not whole 3073-byte records"
    ):
        CIFAR10(root, train=False)
    with pytest.raises(ValueError, match="has no file data_batch_1.bin"):
        CIFAR10(root, train=True)


# ---- transforms and the loader ----------------------------------------------------------------
def test_random_crop_takes_a_window_of_the_padded_image():
    image = np.arange(2 * 5 * 5, dtype=np.float32).reshape(2, 5, 5)
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)))
    seen = set()
    for _ in range(200):
        crop = T.RandomCrop(5, padding=2)(image)
        windows = [
            (i, j)
            for i in range(5)
            for j in range(5)
            if np.array_equal(padded[:, i : i + 5, j : j + 5], crop)
        ]
        assert windows, "not a window of the padded image"
        seen.add(windows[0])
    assert len(seen) == 25  # every place is drawn
    tc.manual_seed(3)
    first = T.RandomCrop(5, padding=2)(image)
    tc.manual_seed(3)
    assert np.array_equal(T.RandomCrop(5, padding=2)(image), first)  # seeded by tc.manual_seed


def test_transforms_on_a_batch_draw_per_image():
    batch = np.broadcast_to(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), (64, 1, 4, 4))
    crops = T.RandomCrop(4, padding=1)(batch)
    assert crops.shape == (64, 1, 4, 4) and len({c.tobytes() for c in crops}) > 4
    flips = T.RandomHorizontalFlip()(batch)
    flipped = np.array([np.array_equal(f, b[..., ::-1]) for f, b in zip(flips, batch)])
    assert 10 < flipped.sum() < 54 and all(
        np.array_equal(f, b) for f, b in zip(flips[~flipped], batch[~flipped])
    )
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(batch[0]), batch[0][..., ::-1])


def test_normalize_and_compose():
    image = np.ones((3, 2, 2), np.float32)
    out = T.Compose([T.Normalize([0.5, 1.0, 0.0], [0.5, 1.0, 2.0])])(image)
    assert out.dtype == np.float32 and out[:, 0, 0].tolist() == [1.0, 0.0, 0.5]
    with pytest.raises(ValueError, match="Normalize: 2 means for an image of 3 channels"):
        T.Normalize([0, 0], [1, 1])(image)


def test_dataloader_batches_a_dataset_into_tensors(mnist):
    root, arrays, _ = mnist
    train = MNIST(root, transform=T.Normalize([0.5], [0.5]))
    loader = DataLoader(train, batch_size=16, seed=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3 and [len(y.data) for _, y in batches] == [16, 16, 8]
    images, labels = batches[0]
    assert isinstance(images, tc.Tensor) and images.dtype == np.float32 and labels.dtype == np.int64
    assert images.shape == (16, 1, 28, 28) and images.data.min() >= -1 and images.data.max() <= 1
    order = np.concatenate([y.data for _, y in batches])
    # each image once
    assert sorted(order.tolist()) == sorted(arrays["train-labels-idx1-ubyte"].tolist())
    again = np.concatenate([y.data for _, y in DataLoader(train, batch_size=16, seed=4)])
    assert np.array_equal(order, again)
    assert len(DataLoader(train, batch_size=16, drop_last=True)) == 2


def test_dataloader_over_a_tensor_dataset_and_a_plain_dataset():
    x, y = np.arange(10, dtype=np.float64).reshape(5, 2), np.arange(5)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=2, shuffle=False))
    assert batches[0][0].dtype == np.float32 and batches[2][1].data.tolist() == [4]

    class Plain:  # only len() and indexing, as a torch map-style dataset
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full((1, 2, 2), i, np.uint8), i

    images, labels = next(iter(DataLoader(Plain(), batch_size=3, shuffle=False)))
    # integer fields keep their dtype, as PyTorch's collate keeps it
    assert (
        images.dtype == np.uint8
        and images.data[:, 0, 0, 0].tolist() == [0, 1, 2]
        and labels.data.tolist() == [0, 1, 2]
    )
    ids, values, weights = next(
        iter(DataLoader(TensorDataset(np.arange(4), x[:4], np.ones(4)), batch_size=4))
    )
    assert ids.dtype == np.int64 and values.shape == (4, 2) and weights.dtype == np.float32
    (alone,) = next(iter(DataLoader(TensorDataset(x), batch_size=2, shuffle=False)))
    assert alone.data.tolist() == [[0, 1], [2, 3]]
    with pytest.raises(
        ValueError, match="TensorDataset: arrays must have the same first dimension"
    ):
        TensorDataset(x, y[:3])


# ---- the command line -------------------------------------------------------------------------
def test_cli_trains_on_a_downloaded_dataset_with_augmentation_and_resnet(
    mnist, server, tmp_path, monkeypatch
):
    root, _, _ = mnist
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(root))
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--data",
                "mnist",
                "--model",
                "resnet",
                "--augment",
                "--epochs",
                "1",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    checkpoint = tc.load(out / "checkpoint.npz")
    assert checkpoint["config"] == {
        "model": "resnet",
        "depth": 8,
        "in_channels": 1,
        "image_size": 28,
        "classes": 10,
    }
    assert checkpoint["options"]["augment"] is True and checkpoint["options"]["model"] == "resnet"
    asked = len(server.requests)
    assert main(["evaluate", str(out / "checkpoint.npz")]) == 0
    assert len(server.requests) == asked  # evaluation reads the cache


def test_cli_offline_without_the_files_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(tmp_path))
    monkeypatch.setenv("TINYGRAD_CNN_OFFLINE", "1")
    with pytest.raises(SystemExit) as exited:
        main(["train", "--data", "cifar10", "--out", str(tmp_path / "run")])
    assert exited.value.code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            "--data cifar10: CIFAR10: cifar-10-binary.tar.gz is not in "
            f"{tmp_path / 'CIFAR10'}, and TINYGRAD_CNN_OFFLINE=1 forbids downloading it"
        )
    )


def test_cli_augmented_run_resumes_bit_exactly(tmp_path, monkeypatch, capsys):
    """The transforms draw from the framework's generator, which the checkpoint keeps."""
    from tinygrad_cnn import optim

    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    args = ["train", "--epochs", "3", "--width", "4", "--augment", "--quiet"]
    assert main(args + ["--out", str(straight)]) == 0
    calls, real_step = {"n": 0}, optim.Adam.step

    def step_or_interrupt(self):
        calls["n"] += 1
        if calls["n"] == 60:  # 45 batches an epoch: inside epoch 2
            raise KeyboardInterrupt
        real_step(self)

    monkeypatch.setattr(optim.Adam, "step", step_or_interrupt)
    with pytest.raises(SystemExit):
        main(args + ["--out", str(stopped)])
    monkeypatch.undo()
    assert main(["train", "--resume", str(stopped / "checkpoint.npz"), "--quiet"]) == 0
    resumed, reference = tc.load(stopped / "checkpoint.npz"), tc.load(straight / "checkpoint.npz")
    for name, array in reference["model"].items():
        assert np.array_equal(resumed["model"][name], array), name


# ---- hostile and odd files ----------------------------------------------------------------------
def test_a_gzip_bomb_is_checked_in_bounded_memory(tmp_path):
    """200 MB of zeros in a 200 KB file: the checksum streams it a chunk at a time."""
    import tracemalloc

    from tinygrad_cnn.datasets.download import _verify_file

    bomb = tmp_path / "bomb.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        for _ in range(200):
            f.write(bytes(1 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(ChecksumError, match="SHA-256 of its decompressed content"):
            _verify_file("X", str(bomb), Resource("bomb.gz", "0" * 64), True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, peak


def test_zero_padding_after_the_gzip_stream_is_skipped_as_gzip_does(mnist, server):
    root, arrays, files = mnist
    (root / "MNIST").mkdir(parents=True)
    for name, body in files.items():  # tape and block devices pad files with zeros; gzip reads them
        (root / "MNIST" / name).write_bytes(body + bytes(4))
    assert (
        np.array_equal(MNIST(root).targets, arrays["train-labels-idx1-ubyte"])
        and server.requests == []
    )


def test_a_cache_that_cannot_take_the_file_is_one_error_before_any_mirror(mnist, server):
    root, _, _ = mnist
    (root / "MNIST" / "train-images-idx3-ubyte.gz").mkdir(parents=True)  # a folder in the way
    with pytest.raises(
        OSError, match=r"MNIST: .*train-images-idx3-ubyte.gz is in the way of the download"
    ):
        MNIST(root)
    assert server.requests == []


@pytest.mark.parametrize(
    "archive, message",
    [
        (gzip.compress(b"not a tar archive at all" * 40), "is not a readable tar.gz archive"),
        (
            cifar_archive({"test_batch.bin": (np.zeros((1, 3, 32, 32)), np.zeros(1))})[:-40],
            "is not a readable tar.gz",
        ),
    ],
)
def test_a_broken_cifar_archive_is_an_error_naming_it(
    monkeypatch, server, tmp_path, archive, message
):
    root, _ = cifar_setup(monkeypatch, server, tmp_path)
    serve_cifar(monkeypatch, server, archive)
    with pytest.raises(ValueError, match=rf"CIFAR10: .*cifar-10-binary.tar.gz {message}"):
        CIFAR10(root, train=False)


def test_a_cifar_archive_holding_a_batch_twice_is_refused(monkeypatch, server, tmp_path):
    root, _ = cifar_setup(monkeypatch, server, tmp_path)
    serve_cifar(
        monkeypatch,
        server,
        tar_gz({"a/test_batch.bin": bytes(3073), "b/test_batch.bin": bytes(3073)}),
    )
    with pytest.raises(ValueError, match="holds test_batch.bin twice"):
        CIFAR10(root, train=False)


def test_transform_arguments_as_torchvision_takes_them():
    crop = T.RandomCrop(np.int64(3), padding=np.int64(1))
    assert crop.size == (3, 3) and crop(np.zeros((1, 4, 4), np.float32)).shape == (1, 3, 3)
    with pytest.raises(
        ValueError, match=r"RandomCrop: .* padding an int >= 0 \(the same on every side\)"
    ):
        T.RandomCrop(3, padding=(1, 2))
    flipped = T.RandomHorizontalFlip(p=1.0)(np.arange(6, dtype=np.float32).reshape(1, 2, 3))
    assert flipped.flags.c_contiguous and flipped[0, 0].tolist() == [2, 1, 0]
