"""Checkpoint files as an attacker or an accident makes them: what tc.save writes over, and what
tc.load makes of malformed, hostile and fuzzed files (always a CheckpointError, never anything
else, never a large allocation).

TINYGRAD_CNN_FUZZ_EXAMPLES sets the examples per fuzzing strategy (default 150).
"""

import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc

FUZZ_EXAMPLES = int(os.environ.get("TINYGRAD_CNN_FUZZ_EXAMPLES", "150"))
ORIGINAL = {
    "model": {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones(3)},
    "epoch": 2,
    "history": [0.5, (0.25, None)],
    "name": "run",
}


def valid_bytes(tmp_path_factory=None):
    folder = tmp_path_factory.mktemp("valid") if tmp_path_factory else None
    buffer = os.path.join(folder or "/tmp", "valid.npz")
    tc.save(ORIGINAL, buffer)
    with open(buffer, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    return valid_bytes(tmp_path_factory)


def same_as_original(value):
    return (
        value.keys() == ORIGINAL.keys()
        and value["epoch"] == 2
        and value["name"] == "run"
        and value["history"] == [0.5, (0.25, None)]
        and all(
            np.array_equal(value["model"][k], ORIGINAL["model"][k])
            and value["model"][k].dtype == ORIGINAL["model"][k].dtype
            for k in ("w", "b")
        )
    )


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def archive_of(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def with_header(valid: bytes, header_text: bytes) -> bytes:
    members = members_of(valid)
    members["__header__.npy"] = npy(np.frombuffer(header_text, dtype=np.uint8))
    return archive_of(members)


def header_of(valid: bytes) -> dict:
    return json.loads(np.load(io.BytesIO(members_of(valid)["__header__.npy"])).tobytes())


def load_bytes(tmp_path, data: bytes):
    path = tmp_path / "c.npz"
    path.write_bytes(data)
    return tc.load(path)


# ---- what save writes over (item 4) --------------------------------------------------------------
def test_save_writes_through_a_symlink(tmp_path):
    target, link = tmp_path / "real.npz", tmp_path / "link.npz"
    tc.save({"v": 1}, target)
    link.symlink_to(target)
    tc.save({"v": 2}, link)
    assert link.is_symlink() and tc.load(target) == {"v": 2}


def test_save_refuses_targets_that_are_not_regular_files(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "link").symlink_to(fifo)
    targets = {tmp_path: "a folder", fifo: "a named pipe", tmp_path / "link": "a named pipe"}
    try:
        os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a twin of /dev/null
        targets[tmp_path / "null"] = "a character device"
    except PermissionError:  # not root: the pipe and the folder still cover the check
        pass
    for target, kind in targets.items():
        with pytest.raises(tc.CheckpointError, match=rf"is {kind}, not a regular file"):
            tc.save({"v": 1}, target)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and not list(tmp_path.glob(".*.tmp"))
    if tmp_path / "null" in targets:
        assert stat.S_ISCHR(os.stat(tmp_path / "null").st_mode)


def test_new_files_follow_the_umask_and_existing_files_keep_their_mode(tmp_path):
    previous = os.umask(0o027)
    try:
        tc.save({"v": 1}, tmp_path / "new.npz")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o640
    os.chmod(tmp_path / "new.npz", 0o604)
    tc.save({"v": 2}, tmp_path / "new.npz")
    assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o604


def test_a_writer_killed_mid_save_leaves_a_temporary_the_next_save_removes(tmp_path):
    path = tmp_path / "c.npz"
    tc.save({"v": 1}, path)
    writer = textwrap.dedent(f"""
        import time, numpy as np, tinygrad_cnn as tc
        def stalled(f, **members):
            f.write(b"x" * 100000)
            f.flush()
            print("writing", flush=True)
            time.sleep(60)
        np.savez = stalled
        tc.save({{"v": 2}}, {str(path)!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    stale = list(tmp_path.glob(".c.npz.*.tmp"))
    assert len(stale) == 1 and stale[0].stat().st_size == 100000
    host = socket.gethostname()
    live = tmp_path / f".c.npz.{os.getppid()}-0000.{host}.tmp"  # a writer that is still running
    dead_pid = stale[0].name.split(".")[3].partition("-")[0]
    # a pid means nothing on another host
    elsewhere = tmp_path / f".c.npz.{dead_pid}-0000.another-host.tmp"
    odd = [tmp_path / f".c.npz.{pid}-x.{host}.tmp" for pid in ("9" * 30, "\u00b2", "")]
    unremovable = tmp_path / f".c.npz.{dead_pid}-0000.{host}.tmp"  # a dead writer's, but a folder
    for leftover in (live, elsewhere, *odd):
        leftover.write_bytes(b"partial")
    unremovable.mkdir()
    (unremovable / "inside").write_bytes(b"")
    tc.save({"v": 3}, path)
    assert not stale[0].exists() and tc.load(path) == {"v": 3}
    assert all(p.exists() for p in (live, elsewhere, *odd, unremovable))


def test_save_refuses_folder_paths_and_loops_and_takes_long_names(tmp_path):
    with pytest.raises(tc.CheckpointError, match="names a folder"):
        tc.save({"v": 1}, str(tmp_path / "new") + "/")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(tc.CheckpointError, match="save: .*a: Too many levels of symbolic links"):
        tc.save({"v": 1}, tmp_path / "a")
    long = tmp_path / ("n" * 240 + ".npz")
    tc.save({"v": 1}, long)
    assert tc.load(long) == {"v": 1}


def test_a_replaced_file_is_never_more_readable_than_it_was(tmp_path, monkeypatch):
    path = tmp_path / "private.npz"
    tc.save({"v": 1}, path)
    os.chmod(path, 0o600)
    modes = []
    real_savez = np.savez

    def watching(f, **members):
        modes.append(stat.S_IMODE(os.fstat(f.fileno()).st_mode))  # the temporary, while written
        real_savez(f, **members)

    monkeypatch.setattr(np, "savez", watching)
    tc.save({"v": 2}, path)
    assert modes == [0o600] and stat.S_IMODE(os.stat(path).st_mode) == 0o600


# ---- malformed files (item 5) --------------------------------------------------------------------
MALFORMED_HEADERS = {
    b"not json {": "not JSON",
    b"\xff\xfe\x00": "not UTF-8 text",
    b"[1, 2]": "has an unknown header",
    b'{"format": "tinygrad_cnn", "version": true, "tree": 1, "sha256": {}}': r"version bool True",
    b'{"format": "tinygrad_cnn", "version": 1, "tree": 1, "sha256": ["a0"]}': "sha256 is list",
    b'{"format": "tinygrad_cnn", "version": 1, "tree": 1}': "sha256 is NoneType",
    b'{"format": "tinygrad_cnn", "version": 1, "sha256": {}}': "malformed header: no tree",
    b'{"format": "tinygrad_cnn", "version": 1, "tree": 1, "sha256": {}}': (
        r"members \['a0', 'a1'\] have no checksum"
    ),
    b'{"format": "tinygrad_cnn", "version": 1, "tree": {"__array__": "a0", "x": 1}, '
    b'"sha256": {}}': "no checksum",
    b'{"format": "tinygrad_cnn", "version": 1, "tree": 1, '
    b'"sha256": {"a0": "x", "a1": "x", "a9": "x"}}': r"members \['a9'\] are missing",
    b'{"format": "tinygrad_cnn", "version": 1, "tree": 1, "sha256": {"a0": "x", "a1": "x"}}': (
        "member 'a0' does not match its checksum"
    ),
    b'{"format": "tinygrad_cnn", "version": 1, "tree": '
    + b"[" * 5000
    + b"]" * 5000
    + b', "sha256": {}}': "nested too deeply|members",
}


@pytest.mark.parametrize("header", MALFORMED_HEADERS, ids=range(len(MALFORMED_HEADERS)))
def test_malformed_headers_are_named(tmp_path, valid, header):
    with pytest.raises(tc.CheckpointError, match=MALFORMED_HEADERS[header]):
        load_bytes(tmp_path, with_header(valid, header))


def malformed_tree(valid: bytes, tree) -> bytes:
    header = header_of(valid)
    header["tree"] = tree
    return with_header(valid, json.dumps(header).encode())


@pytest.mark.parametrize(
    "tree, message",
    [
        ([1, 2], "unexpected list"),
        ({"__array__": "a7"}, "refers to an array str 'a7' it does not hold"),
        ({"__array__": ["a0"]}, "refers to an array list"),
        ({"__dict__": {"k": 1}}, "__dict__ holds dict"),
        ({"__dict__": [["k"]]}, r"a dict entry is not a \[key, value\] pair"),
        ({"__dict__": [[1, 2]]}, r"a dict entry is not a \[key, value\] pair"),
        ({"__list__": 5}, "__list__ holds int"),
        ({"__set__": []}, "unexpected dict"),
        ({"__list__": [{"__list__": []}] * 2, "__tuple__": []}, "unexpected dict"),
    ],
)
def test_malformed_structures_are_named(tmp_path, valid, tree, message):
    with pytest.raises(tc.CheckpointError, match=message):
        load_bytes(tmp_path, malformed_tree(valid, tree))


def test_deep_structures_are_refused_on_both_sides(tmp_path, valid):
    deep = 1
    for _ in range(300):
        deep = {"__list__": [deep]}
    with pytest.raises(tc.CheckpointError, match="nested deeper than 100 levels"):
        load_bytes(tmp_path, malformed_tree(valid, deep))
    nested = []
    for _ in range(150):
        nested = [nested]
    with pytest.raises(TypeError, match=r"save: obj(\[0\])+ is nested deeper than 100 levels"):
        tc.save(nested, tmp_path / "deep.npz")


@pytest.mark.parametrize("descr", ["|V0", "<U0", "<M8[s]", "<U3", "|S4"])
def test_arrays_that_are_not_numbers_are_refused(tmp_path, valid, descr):
    """Zero-size elements would let an array declare any shape in no bytes."""
    members = members_of(valid)
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}".encode()
    body = b"\x93NUMPY\x01\x00" + (len(text) + 1).to_bytes(2, "little") + text + b"\n"
    members["a0.npy"] = body + bytes(3 * np.dtype(descr).itemsize)
    with pytest.raises(
        tc.CheckpointError,
        match=r"member 'a0.npy' has dtype .*; checkpoints hold numeric arrays only",
    ):
        load_bytes(tmp_path, archive_of(members))


def test_folders_and_pipes_are_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    for target, kind in ((tmp_path, "a folder"), (tmp_path / "pipe", "a named pipe")):
        with pytest.raises(tc.CheckpointError, match=f"is {kind}, not a checkpoint file"):
            tc.load(target)


def test_headers_too_large_or_with_huge_numbers_are_refused(tmp_path, valid):
    header = header_of(valid)
    with pytest.raises(tc.CheckpointError, match="not JSON: Exceeds the limit"):
        load_bytes(
            tmp_path,
            with_header(valid, json.dumps(header).encode()[:-1] + b', "n": ' + b"1" * 5000 + b"}"),
        )
    padded = json.dumps(header).encode() + b" " * (17 * 2**20)
    members = members_of(valid)
    members["__header__.npy"] = npy(np.frombuffer(padded, dtype=np.uint8))
    err, _ = load_measuring_memory(tmp_path, archive_of(members, zipfile.ZIP_DEFLATED))
    assert f"has a header of {len(padded)} bytes, more than 16777216" in str(err)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        (bytes(range(256)) * 4, "not a zip archive"),
        (b"\x80\x04\x95 pickle", "is a pickle file"),
        (npy(np.ones(3)), "single .npy array"),
        (b"PK\x03\x04" + bytes(100), "not a readable checkpoint"),
    ],
)
def test_files_that_are_not_checkpoints_say_what_they_are(tmp_path, data, message):
    with pytest.raises(tc.CheckpointError, match=message):
        load_bytes(tmp_path, data)


def test_members_that_are_not_arrays_are_named(tmp_path, valid):
    members = members_of(valid)
    members["notes.txt"] = b"hello"
    with pytest.raises(tc.CheckpointError, match="member 'notes.txt' is not an .npy array"):
        load_bytes(tmp_path, archive_of(members))


# ---- hostile sizes (item 6) ----------------------------------------------------------------------
def load_measuring_memory(tmp_path, data: bytes) -> tuple[Exception, int]:
    tracemalloc.start()
    try:
        with pytest.raises(tc.CheckpointError) as err:
            load_bytes(tmp_path, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return err.value, peak


def test_an_array_claiming_terabytes_is_refused_before_allocating(tmp_path, valid):
    members = members_of(valid)
    claim = npy(np.zeros(1, dtype=np.float32)).replace(b"(1,)", b"(1000000000000,)")
    members["a0.npy"] = claim
    err, peak = load_measuring_memory(tmp_path, archive_of(members))
    assert "declares shape (1000000000000,) of float32 (4000000000000 bytes) but holds" in str(err)
    assert peak < 2**20


def test_a_deflate_bomb_is_refused_before_expanding(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.npy", "w", force_zip64=True) as member:
            member.write(npy(np.zeros(1, np.uint8))[:-1].replace(b"(1,)", b"(300000000,)"))
            chunk = bytes(2**20)
            for _ in range(300000000 // 2**20 + 1):
                member.write(chunk)
    assert len(buffer.getvalue()) < 1_000_000  # under 1 MB on disk, 300 MB expanded
    err, peak = load_measuring_memory(tmp_path, buffer.getvalue())
    assert "compressed member 'bomb.npy' would expand" in str(err) and peak < 2**20


def test_members_cannot_claim_bytes_outside_the_file_or_together_expand_too_far(tmp_path, valid):
    data = bytearray(archive_of(members_of(valid), zipfile.ZIP_DEFLATED))
    entry = data.index(b"PK\x01\x02")  # the central directory's compressed size (offset 20)
    data[entry + 20 : entry + 24] = (len(data) * 4).to_bytes(4, "little")
    err, _ = load_measuring_memory(tmp_path, bytes(data))
    assert "claims" in str(err) and "of a" in str(err)
    buffer = io.BytesIO()
    with zipfile.ZipFile(
        buffer, "w", zipfile.ZIP_DEFLATED
    ) as archive:  # eight members of 40 MiB zeros
        for k in range(8):
            archive.writestr(f"a{k}.npy", npy(np.zeros(40 * 2**20, np.uint8)))
    err, peak = load_measuring_memory(tmp_path, buffer.getvalue())
    assert "would expand" in str(err) and peak < 100 * 2**20


def test_a_stored_member_cannot_claim_more_bytes_than_it_takes(tmp_path, valid):
    data = bytearray(valid)
    # the central directory's uncompressed size of the first member (offset 24 in its entry)
    entry = data.index(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = (2**31).to_bytes(4, "little")
    err, peak = load_measuring_memory(tmp_path, bytes(data))
    assert "declares 2147483648 bytes but takes" in str(err) and peak < 2**20


# ---- fuzzing: every mutation gives the original back or a CheckpointError ------------------------
fuzz = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def loads_original_or_refuses(tmp_path, data: bytes) -> None:
    try:
        value = load_bytes(tmp_path, data)
    except tc.CheckpointError:
        return
    assert same_as_original(value), "a mutated file loaded as something else, with no error"


@fuzz
@given(
    flips=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=4
    )
)
def test_fuzz_byte_flips(tmp_path, valid, flips):
    data = bytearray(valid)
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    loads_original_or_refuses(tmp_path, bytes(data))


@fuzz
@given(keep=st.floats(0, 1, exclude_max=True))
def test_fuzz_truncation(tmp_path, valid, keep):
    loads_original_or_refuses(tmp_path, valid[: int(keep * len(valid))])


@fuzz
@given(where=st.floats(0, 1), junk=st.binary(min_size=1, max_size=64), replace=st.booleans())
def test_fuzz_zip_structure(tmp_path, valid, where, junk, replace):
    """Junk spliced into, or written over, the end of the archive, where the central directory
    is."""
    directory = valid.index(b"PK\x01\x02")
    at = directory + int(where * (len(valid) - directory))
    data = valid[:at] + junk + valid[at + (len(junk) if replace else 0) :]
    loads_original_or_refuses(tmp_path, data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=12,
)


@fuzz
@given(
    field=st.sampled_from(["format", "version", "tree", "sha256", "extra"]),
    value=JSON,
    keys=st.sampled_from(["__array__", "__dict__", "__list__", "__tuple__", "a0", "a1"]),
)
def test_fuzz_header_fields(tmp_path, valid, field, value, keys):
    header = header_of(valid)
    header[field] = {keys: value} if field == "tree" and isinstance(value, list) else value
    try:
        load_bytes(tmp_path, with_header(valid, json.dumps(header).encode()))
    except tc.CheckpointError:
        pass


@fuzz
@given(
    names=st.lists(
        st.sampled_from(
            [
                "a0.npy",
                "a1.npy",
                "a2.npy",
                "__header__.npy",
                "a0",
                "x.npy",
                "data.pkl",
                "../a0.npy",
                "a0.npy/",
                "a0.NPY",
            ]
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fuzz_member_names(tmp_path, valid, names):
    """Members renamed, dropped, repeated: with the header kept, the original or an error."""
    bodies = list(members_of(valid).values())
    members = [(name, bodies[i % len(bodies)]) for i, name in enumerate(names)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the repeated names it is asked for
        for name, body in members:
            archive.writestr(name, body)
    try:
        value = load_bytes(tmp_path, buffer.getvalue())
    except tc.CheckpointError:
        return
    if "__header__.npy" in names:
        assert same_as_original(value)
    else:  # no header: a plain .npz, read as its arrays
        assert sorted(value) == sorted(name[:-4] for name in names)


@fuzz
@given(
    descr=st.sampled_from(
        ["<f4", "<f8", "|O", ">i8", "<U3", "V8", "<f2", "bogus", "[('a', '<f4')]"]
    ),
    shape=st.sampled_from(
        [
            "()",
            "(3, 4)",
            "(4, 3)",
            "(12,)",
            "(-1,)",
            "(2**62,)",
            "(99999999999999,)",
            "(3, 4, 0)",
            "x",
        ]
    ),
    fortran=st.sampled_from(["False", "True", "1"]),
)
def test_fuzz_npy_headers(tmp_path, valid, descr, shape, fortran):
    members = members_of(valid)
    body = members["a0.npy"]
    text = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}".encode()
    header_length = int.from_bytes(body[8:10], "little")
    padded = text + b" " * (header_length - len(text) - 1) + b"\n"
    if len(padded) == header_length:
        members["a0.npy"] = body[:10] + padded + body[10 + header_length :]
        loads_original_or_refuses(tmp_path, archive_of(members))


# ---- checksums cover dtype and shape -------------------------------------------------------------
def test_a_reshaped_array_fails_its_checksum(tmp_path, valid):
    members = members_of(valid)
    members["a0.npy"] = members["a0.npy"].replace(b"(3, 4)", b"(4, 3)")
    with pytest.raises(tc.CheckpointError, match="member 'a0' does not match its checksum"):
        load_bytes(tmp_path, archive_of(members))


def test_format_1_files_still_load(tmp_path):
    import hashlib

    weights = np.arange(6.0).reshape(2, 3)
    header = {
        "format": "tinygrad_cnn",
        "version": 1,
        "tree": {"__dict__": [["w", {"__array__": "a0"}]]},
        "sha256": {"a0": hashlib.sha256(weights.tobytes()).hexdigest()},
    }
    np.savez(
        tmp_path / "old.npz",
        a0=weights,
        __header__=np.frombuffer(json.dumps(header).encode(), np.uint8),
    )
    assert np.array_equal(tc.load(tmp_path / "old.npz")["w"], weights)
