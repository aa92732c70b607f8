"""conv2d's orders chosen by measurement (tinygrad_cnn/ops/layout.py): every candidate computes
the same convolution, the choice is made once per geometry, kept on disk when asked, and
switched off by one setting."""

import json

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn.engine import topological_order
from tinygrad_cnn.ops import layout
from tinygrad_cnn.ops.window import window_geometry

BIG = (8, 16, 24, 24)  # columns of 8*24*24*16*9*4 bytes = 2.6 MiB: above TUNE_MIN_BYTES


@pytest.fixture
def tuning(monkeypatch):
    """Measurement on, a clean in-memory choice table, no cache file; all undone afterwards."""
    monkeypatch.setattr(layout, "_chosen", {})
    monkeypatch.setitem(layout._settings, "autotune", True)
    monkeypatch.setitem(layout._settings, "cache", None)
    monkeypatch.delenv("TINYGRAD_CNN_LAYOUT_CACHE", raising=False)


def geometry(shape=BIG, k=3, padding=1):
    return window_geometry("test", shape, k, 1, padding)


def conv_step(x, w, b):
    """Output and the three gradients of sum(conv2d(x, w, b) * probe)."""
    x, w, b = (tc.Tensor(a, dtype=a.dtype, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(x, w, b, padding=1)
    probe = np.cos(np.arange(out.size, dtype=out.dtype)).reshape(out.shape)
    (out * probe).sum().backward()
    return out, [out.data, x.grad.data, w.grad.data, b.grad.data]


def test_off_small_or_huge_takes_the_default_untimed(tuning, monkeypatch):
    monkeypatch.setattr(layout, "_chain_seconds", lambda *a: pytest.fail("timed"))
    small = np.ones((1, 2, 5, 5), np.float32)
    assert layout.conv_orders(small, 4, geometry(small.shape)) == layout.CONV_ORDERS[0]
    with monkeypatch.context() as patch:
        patch.setattr(layout, "TUNE_MAX_BYTES", 1 << 20)  # BIG's columns are 2.6 MiB
        assert layout.conv_orders(np.ones(BIG, np.float32), 32, geometry()) == ("hwc", "hwb")
    layout.set_autotune(False)  # the fixture restores the setting
    assert layout.conv_orders(np.ones(BIG, np.float32), 32, geometry()) == ("hwc", "hwb")


def test_the_fastest_candidate_wins_and_is_timed_once(tuning, monkeypatch):
    seconds = {("hwc", "hwb"): 3.0, ("hwc", "bhw"): 2.0, ("chw", "bhw"): 1.0, ("chw", "hwb"): 4.0}
    timed = []

    def fake(x, m, g, columns, rows):
        timed.append((columns, rows))
        return seconds[columns, rows]

    monkeypatch.setattr(layout, "_chain_seconds", fake)
    x = np.ones(BIG, np.float32)
    assert layout.conv_orders(x, 32, geometry()) == ("chw", "bhw")
    assert layout.conv_orders(x, 32, geometry()) == ("chw", "bhw")
    assert sorted(timed) == sorted(layout.CONV_ORDERS)  # each once, then from memory
    # another memory order of the same shape is another geometry: timed again
    layout.conv_orders(np.ones(BIG[::-1], np.float32).T, 32, geometry())
    assert len(timed) == 8


def test_the_real_timing_returns_a_candidate(tuning):
    orders = layout.conv_orders(np.ones(BIG, np.float32), 32, geometry())
    assert orders in layout.CONV_ORDERS


@pytest.mark.parametrize("orders", layout.CONV_ORDERS)
@pytest.mark.parametrize("dtype,tolerance", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_every_candidate_computes_the_same_convolution(
    orders, dtype, tolerance, rng, tuning, monkeypatch
):
    x = rng.standard_normal(BIG).astype(dtype)
    w = (rng.standard_normal((32, 16, 3, 3)) / 12).astype(dtype)
    b = rng.standard_normal(32).astype(dtype)
    layout.set_autotune(False)
    _, expected = conv_step(x, w, b)
    layout.set_autotune(True)
    monkeypatch.setattr(layout, "_fastest", lambda x, seconds: orders)
    out, got = conv_step(x, w, b)
    (im2col,) = [t._ctx for t in topological_order(out) if t._ctx and t._ctx.name == "im2col"]
    assert (im2col.attrs["columns"], im2col.attrs["rows"]) == orders
    for g, e in zip(got, expected):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, e, rtol=tolerance, atol=tolerance * np.abs(e).max())


def test_choices_are_kept_in_the_cache_file(tuning, monkeypatch, tmp_path):
    path = tmp_path / "layouts.json"
    layout.set_layout_cache(str(path))
    monkeypatch.setattr(layout, "_fastest", lambda x, seconds: ("chw", "hwb"))
    x = np.ones(BIG, np.float32)
    assert layout.conv_orders(x, 32, geometry()) == ("chw", "hwb")
    (entries,) = json.loads(path.read_text()).values()  # one machine: numpy, BLAS, settings
    assert list(entries.values()) == [["chw", "hwb"]]
    # a later process: nothing in memory, the file answers without timing
    layout._chosen.clear()
    monkeypatch.setattr(layout, "_fastest", lambda *a: pytest.fail("timed again"))
    assert layout.conv_orders(x, 32, geometry()) == ("chw", "hwb")


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"x": 3}'])
def test_a_broken_cache_file_only_costs_a_measurement(content, tuning, monkeypatch, tmp_path):
    path = tmp_path / "layouts.json"
    path.write_text(content)
    layout.set_layout_cache(str(path))
    monkeypatch.setattr(layout, "_fastest", lambda x, seconds: ("hwc", "bhw"))
    assert layout.conv_orders(np.ones(BIG, np.float32), 32, geometry()) == ("hwc", "bhw")
    assert list(json.loads(path.read_text())[layout._machine()].values()) == [["hwc", "bhw"]]


def test_an_unwritable_cache_does_not_stop_the_convolution(tuning, monkeypatch, tmp_path):
    layout.set_layout_cache(str(tmp_path / "missing-folder" / "layouts.json"))
    monkeypatch.setattr(layout, "_fastest", lambda x, seconds: ("hwc", "bhw"))
    assert layout.conv_orders(np.ones(BIG, np.float32), 32, geometry()) == ("hwc", "bhw")


def stored_as(array: np.ndarray) -> str:
    """The axes of a 4-D array from outermost to innermost in memory, e.g. "chwb"."""
    return "".join("bchw"[i] for i in np.argsort(array.strides, kind="stable")[::-1])


def chwb(rng, shape=(4, 3, 6, 6)) -> tc.Tensor:
    """A (B, C, H, W) tensor stored as (C, H, W, B), as conv2d's outputs are."""
    stored = rng.standard_normal((shape[1], shape[2], shape[3], shape[0]))
    return tc.Tensor(stored.transpose(3, 0, 1, 2), dtype=np.float64, requires_grad=True)


def test_pad_and_getitem_keep_the_memory_order(rng):
    """A shortcut (every 2nd pixel, channels padded) keeps (C, H, W, B) storage both ways, so
    the residual add after it and every gradient through it stay in the conv's layout."""
    x = chwb(rng)
    y = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 0, 2))
    assert stored_as(y.data) == "chwb"
    assert np.array_equal(y.data, np.pad(x.data[:, :, ::2, ::2], ((0, 0), (0, 2), (0, 0), (0, 0))))
    y.backward(np.ones(y.shape))
    assert stored_as(x.grad.data) == "chwb"
    expected = np.zeros(x.shape)
    expected[:, :, ::2, ::2] = 1
    assert np.array_equal(x.grad.data, expected)


def test_a_channel_bias_passes_its_gradient_on_uncopied(rng):
    x, bias = chwb(rng), tc.Tensor(np.ones(3), dtype=np.float64, requires_grad=True)
    y = F.batch_norm(x, None, None, bias=bias, training=True)
    y.backward(y.data * 2)
    assert stored_as(x.grad.data) == "chwb"


def test_a_resnet_step_copies_no_gradient_into_another_layout(monkeypatch):
    """Every conv's gradient arrives in the layout its product was stored in, so the reshape
    before its matmul's backward is a view: no transposing copy anywhere in the step."""
    from tinygrad_cnn.models import resnet8
    from tinygrad_cnn.ops import movement

    copies = []
    backward = movement.Reshape.backward

    def watched(ctx, grad):
        out = backward(ctx, grad)
        copies.extend([grad.shape] if out.size and not np.shares_memory(out, grad) else [])
        return out

    monkeypatch.setattr(movement.Reshape, "backward", staticmethod(watched))
    model = resnet8()
    loss = F.cross_entropy(model(tc.Tensor(np.ones((4, 3, 16, 16)))), np.arange(4))
    loss.backward()
    assert copies == []


def stored_key(x: np.ndarray, m: int, g) -> str:
    """The cache file's name for conv_orders(x, m, g)'s entry."""
    memory = tuple(int(i) for i in np.argsort(x.strides)[::-1])
    return repr((x.shape, memory, m, tuple(g), x.dtype.str))


@pytest.mark.parametrize("entry", [3, True, "hwc", [["hwc", "hwb"]], None])
def test_a_cache_entry_that_is_no_pair_only_costs_a_measurement(
    entry, tuning, monkeypatch, tmp_path
):
    x, path = np.ones(BIG, np.float32), tmp_path / "layouts.json"
    path.write_text(json.dumps({layout._machine(): {stored_key(x, 32, geometry()): entry}}))
    layout.set_layout_cache(str(path))
    monkeypatch.setattr(layout, "_fastest", lambda x, seconds: ("chw", "hwb"))
    assert layout.conv_orders(x, 32, geometry()) == ("chw", "hwb")


def test_the_cache_works_with_a_numpy_that_has_no_config_dict(tuning, monkeypatch, tmp_path):
    """numpy < 1.25 (built with distutils) has no np.__config__.CONFIG."""
    monkeypatch.delattr(np.__config__, "CONFIG", raising=False)
    layout.set_layout_cache(str(tmp_path / "layouts.json"))
    monkeypatch.setattr(layout, "_fastest", lambda x, seconds: ("hwc", "bhw"))
    assert layout.conv_orders(np.ones(BIG, np.float32), 32, geometry()) == ("hwc", "bhw")
    (entries,) = json.loads((tmp_path / "layouts.json").read_text()).values()
    assert list(entries.values()) == [["hwc", "bhw"]]


def test_a_cache_that_cannot_replace_its_file_leaves_no_temporary_behind(
    tuning, monkeypatch, tmp_path
):
    folder = tmp_path / "layouts.json"
    folder.mkdir()  # the cache path names a folder: the final replace fails
    layout.set_layout_cache(str(folder))
    monkeypatch.setattr(layout, "_fastest", lambda x, seconds: ("hwc", "bhw"))
    assert layout.conv_orders(np.ones(BIG, np.float32), 32, geometry()) == ("hwc", "bhw")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_constant_pad_casts_its_value_as_numpy_does():
    """NaN cannot fill an integer array: np.pad raised, and so must pad (an np.full would cast
    it silently to -2**63)."""
    x = tc.Tensor(np.ones((2, 2), np.int64), dtype=np.int64)
    with pytest.raises(ValueError):
        F.pad(x, (1, 1), value=float("nan"))
    assert F.pad(x, (1, 1), value=2.7).data[0].tolist() == [2, 1, 1, 2]


WRITER = """
import os, sys, time, numpy as np
from tinygrad_cnn.ops import layout
from tinygrad_cnn.ops.window import window_geometry
layout.set_autotune(True)
layout.set_layout_cache(sys.argv[1])
layout._fastest = lambda x, seconds: ("chw", "bhw")
while not os.path.exists(sys.argv[1] + ".go"):  # both start writing at once
    time.sleep(0.01)
for h in range(int(sys.argv[2]), int(sys.argv[2]) + 60):
    shape = (8, 16, h, 24)
    layout.conv_orders(np.ones(shape, np.float32), 32, window_geometry("t", shape, 3, 1, 1))
"""


def test_two_processes_filling_one_cache_lose_no_entry(tmp_path):
    """Each writer reads the table, adds its entry and writes the table back; unlocked, one
    process's write dropped the other's entries (62 of 80 kept in one run)."""
    import subprocess
    import sys

    path = tmp_path / "layouts.json"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(start)])
        for start in (20, 100)
    ]
    (tmp_path / "layouts.json.go").touch()
    assert [writer.wait(timeout=300) for writer in writers] == [0, 0]
    (entries,) = json.loads(path.read_text()).values()
    assert len(entries) == 120


def test_a_flipped_input_keeps_its_memory_order(rng):
    """Negative strides count by their size: a (C, H, W, B)-stored input read backwards along
    W still pads into (C, H, W, B) storage."""
    x = chwb(rng)
    flipped = x[:, :, :, ::-1]
    assert stored_as(F.pad(flipped, (1, 1)).data) == "chwb"


POOL_CASES = [
    (F.max_pool2d, dict(kernel_size=2)),
    (F.max_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (F.max_pool2d, dict(kernel_size=2, stride=3, dilation=2)),
    (F.avg_pool2d, dict(kernel_size=2)),
    (F.avg_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
]


@pytest.mark.parametrize("stored", ["bchw", "chwb"])
@pytest.mark.parametrize("pool, arguments", POOL_CASES)
def test_every_candidate_computes_the_same_pool(pool, arguments, stored, monkeypatch, rng):
    """Each (columns, rows) pair gives the default's maxima and means, and their gradients:
    the maxima bit for bit (a max does not round), the means to float rounding."""
    data = rng.standard_normal((4, 3, 9, 8))
    if stored == "chwb":  # as a convolution leaves its output
        data = np.ascontiguousarray(data.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    results = {}
    for orders in layout.CONV_ORDERS:
        monkeypatch.setattr(layout, "pool_orders", lambda x, g, orders=orders: orders)
        x = tc.Tensor(data, dtype=np.float64, requires_grad=True)
        out = pool(x, **arguments)
        probe = np.cos(np.arange(out.size)).reshape(out.shape)
        (out * probe).sum().backward()
        results[orders] = (out.data, x.grad.data)
    default = results[layout.CONV_ORDERS[0]]
    for orders, (out, grad) in results.items():
        if pool is F.max_pool2d:
            assert np.array_equal(out, default[0]) and np.array_equal(grad, default[1]), orders
        else:
            np.testing.assert_allclose(out, default[0], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(grad, default[1], rtol=1e-12, atol=1e-12)


def test_pools_choose_their_orders_by_measurement_once(tuning, monkeypatch):
    """A pool's geometry is timed apart from a convolution's on the same input, each
    candidate once, and the fastest kept."""
    seconds = {("hwc", "hwb"): 3.0, ("hwc", "bhw"): 1.0, ("chw", "bhw"): 2.0, ("chw", "hwb"): 4.0}
    timed = []

    def fake(x, g, columns, rows):
        timed.append((columns, rows))
        return seconds[columns, rows]

    monkeypatch.setattr(layout, "_pool_seconds", fake)
    monkeypatch.setattr(layout, "_chain_seconds", lambda x, m, g, columns, rows: 1.0)
    x = tc.Tensor(np.ones(BIG, np.float32))
    layout.conv_orders(x.data, 32, geometry())
    for _ in range(2):
        F.max_pool2d(x, 2)
    assert sorted(timed) == sorted(layout.CONV_ORDERS)
    pool_key = ("pool", BIG, (0, 1, 2, 3), tuple(window_geometry("t", BIG, 2, 2, 0)), "<f4")
    assert layout.chosen_orders()[pool_key] == ("hwc", "bhw")
    assert len(layout.chosen_orders()) == 2  # the conv's and the pool's


def test_pools_take_the_default_without_measuring(monkeypatch):
    monkeypatch.setitem(layout._settings, "autotune", False)
    monkeypatch.setattr(layout, "_pool_seconds", lambda *a: pytest.fail("timed"))
    assert (
        layout.pool_orders(np.ones(BIG), window_geometry("t", BIG, 2, 2, 0))
        == (layout.CONV_ORDERS[0])
    )


def test_the_real_pool_timing_returns_a_candidate(tuning):
    g = window_geometry("t", BIG, 2, 2, 0)
    assert layout.pool_orders(np.ones(BIG, np.float32), g) in layout.CONV_ORDERS
