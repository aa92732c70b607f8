"""The fast path: memory layouts for the im2col -> matmul -> col2im chain, in one room.

The textbook :func:`~tinygrad_cnn.ops.window.im2col_array` orders rows (b, o_h, o_w) and
columns (c, k_h, k_w), row-major. That order reads each window as K_h short runs of K_w pixels.
Convolutions and pools ask the ops for other orders, named by axis letters:

  rows    "bhw" (b, o_h, o_w) or "hwb" (o_h, o_w, b)
  columns "chw" (c, k_h, k_w) or "hwc" (k_h, k_w, c)

and this module holds everything that depends on them: the copies that build and scatter the
columns in those orders, the memory order a product keeps, and the contiguity the BLAS calls
need. "hwb" columns are stored column-major, i.e. as (C*K_h*K_w, O_h, O_w, B) in memory, so
every copy moves runs of O_w*B values, and a convolution's output comes out as (M, O_h, O_w, B)
in memory, which the next im2col reads in those same long runs.

Notation as in :mod:`tinygrad_cnn.ops.window`.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

COLUMN_ORDERS = ("chw", "hwc")
ROW_ORDERS = ("bhw", "hwb")
TEXTBOOK = ("chw", "bhw")
"""(columns, rows) of the textbook im2col; every other pair takes this module's copies."""

_TRANSPOSE_BLOCK = 8
"""Images per block when im2col moves the batch axis innermost. Each strided read of a block
touches one cache line per image; with images 2^k bytes apart (a (B, 16, 32, 32) float32
batch: 64 KiB) all of them fall in one cache set, whose 8 ways hold 8 lines, not 16:
(32, 16, 32, 32) moves in 0.61 ms in blocks of 8 against 1.05 ms in blocks of 16."""


def check_orders(op: str, columns: str, rows: str = "bhw") -> None:
    """Raise a ValueError naming ``op`` unless ``columns`` and ``rows`` are known orders."""
    if columns not in COLUMN_ORDERS:
        raise ValueError(
            f"{op}: columns must be 'chw' (c, k_h, k_w) or 'hwc' (k_h, k_w, c), got {columns!r}"
        )
    if rows not in ROW_ORDERS:
        raise ValueError(
            f"{op}: rows must be 'bhw' (b, o_h, o_w) or 'hwb' (o_h, o_w, b), got {rows!r}"
        )


def column_major(array: np.ndarray) -> bool:
    """True for a 2-D array stored column by column (the transpose of a C-contiguous one)."""
    return array.flags.f_contiguous and not array.flags.c_contiguous


def _axes(columns: str, rows: str) -> str:
    """Axis letters of the columns matrix, rows first: b batch, h/w output position (o_h, o_w),
    c channel, i/j kernel offset (k_h, k_w). E.g. "bhwijc" for rows "bhw", columns "hwc"."""
    return rows + columns.replace("h", "i").replace("w", "j")


def im2col(x: np.ndarray, geometry, pad_value: float, columns: str, rows: str) -> np.ndarray:
    """im2col in any order: (B, C, H, W) -> (B*O_h*O_w, C*K_h*K_w).

    The windows are a strided view of the (padded) input; the one big copy writes the columns.
    Memory layouts are picked so that copy moves long contiguous runs:
      "bhw": input as (B, H, W, C), columns row-major: runs of K_w*C values;
      "hwb": input as (C, H, W, B), columns column-major, i.e. memory (C*K_h*K_w, O_h, O_w, B):
             runs of O_w*B values.
    """
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)), (oh, ow), (dh, dw) = geometry
    b, c, h, w = x.shape
    layout = "bhwc" if rows == "bhw" else "chwb"
    x = x.transpose(*("bchw".index(axis) for axis in layout))  # a view
    # e.g. a (B, C, H, W) array; a batch of one is innermost whatever its stride
    transpose_batch = rows == "hwb" and b > 1 and x.strides[3] != min(x.strides)
    if pt or pb or pl or pr or transpose_batch:
        sizes = {"b": b, "c": c, "h": pt + h + pb, "w": pl + w + pr}
        padded = np.full([sizes[axis] for axis in layout], pad_value, dtype=x.dtype)
        inner = padded[:, pt : pt + h, pl : pl + w]
        if transpose_batch:
            # moving the batch axis innermost is a transpose: in blocks of a few images, the
            # strided reads stay in cache (3.4x faster for a (256, 3, 32, 32) input)
            for start in range(0, b, _TRANSPOSE_BLOCK):
                block = slice(start, start + _TRANSPOSE_BLOCK)
                inner[..., block] = x[..., block]
        else:
            inner[...] = x
        x = padded
    # axes layout + (i, j), still a view: windows spanning D*(K-1)+1 pixels, every D-th read
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(x, span, axis=(1, 2))[
        :, : sh * oh : sh, : sw * ow : sw, :, ::dh, ::dw
    ]
    axes = _axes(columns, rows)
    memory = axes if rows == "bhw" else axes[3:] + axes[:3]
    cols = windows.transpose(*((layout + "ij").index(axis) for axis in memory)).reshape(-1)
    n, k = b * oh * ow, c * kh * kw  # explicit sizes: a batch of 0 gives (0, K) columns
    return cols.reshape(n, k) if rows == "bhw" else cols.reshape(k, n).T


def reach(
    offset: int, pad: int, stride: int, out_size: int, in_size: int
) -> tuple[slice, slice] | None:
    """For one kernel offset along one axis: the output positions o whose read position
    o*stride + offset - pad lies inside the input, and those input positions; None if none do."""
    first = max(0, -((offset - pad) // stride))  # ceil((pad - offset) / stride)
    last = min(out_size - 1, (in_size - 1 + pad - offset) // stride)
    if last < first:
        return None
    start = first * stride + offset - pad
    return slice(first, last + 1), slice(start, start + (last - first) * stride + 1, stride)


def col2im(
    cols: np.ndarray, input_shape: tuple[int, ...], geometry, columns: str, rows: str
) -> np.ndarray:
    """col2im in any order and memory layout: (B*O_h*O_w, C*K_h*K_w) -> (B, C, H, W).

    As the textbook version, one slab add per kernel offset, the parts that read padding left
    out; but the buffer's axes follow the memory order of ``cols``, so each add runs along the
    longest contiguous stretch: O_w*B values for the column-major "hwb" columns that matmul's
    backward returns for a conv2d. The result is that buffer, contiguous in that order.
    Windows that never overlap (a 2x2 pool's) write their slabs instead of adding them, into
    a buffer left unfilled where they cover every pixel.
    """
    (kh, kw), (sh, sw), ((pt, _), (pl, _)), (oh, ow), (dh, dw) = geometry
    b, c, h, w = input_shape
    axes = _axes(columns, rows)
    sizes = {"b": b, "c": c, "h": oh, "w": ow, "i": kh, "j": kw}
    named = cols.reshape([sizes[axis] for axis in axes])  # a view whatever the memory order
    layout = "".join(sorted("bchw", key=lambda axis: -named.strides[axes.index(axis)]))
    slabs = named.transpose(*(axes.index(axis) for axis in "ij" + layout))
    disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1
    tiled = disjoint and (dh, dw) == (1, 1) and (sh, sw) == (kh, kw)
    covered = tiled and oh * sh - pt >= h and ow * sw - pl >= w
    shape = [dict(b=b, c=c, h=h, w=w)[axis] for axis in layout]
    out = np.empty(shape, dtype=cols.dtype) if covered else np.zeros(shape, dtype=cols.dtype)
    target, source = [slice(None)] * 4, [slice(None)] * 4
    rows_axis, cols_axis = layout.index("h"), layout.index("w")
    for i in range(kh):
        vertical = reach(i * dh, pt, sh, oh, h)
        for j in range(kw):
            horizontal = reach(j * dw, pl, sw, ow, w)
            if vertical is None or horizontal is None:
                continue
            source[rows_axis], target[rows_axis] = vertical
            source[cols_axis], target[cols_axis] = horizontal
            if disjoint:
                out[tuple(target)] = slabs[i, j][tuple(source)]
            else:
                out[tuple(target)] += slabs[i, j][tuple(source)]
    return out.transpose(*(layout.index(axis) for axis in "bchw"))


def window_view(op: str, cols: np.ndarray, channels: int, columns: str) -> np.ndarray:
    """(N, C*K) -> a (N, K, C) view of im2col columns, whichever their order."""
    check_orders(op, columns)
    if cols.ndim != 2 or channels < 1 or cols.shape[1] % channels:
        raise ValueError(
            f"{op}: expected im2col columns (N, C*K) with C={channels}, got shape {cols.shape}"
        )
    k = cols.shape[1] // channels  # explicit, not -1: a batch of 0 has no rows
    if columns == "chw":
        return cols.reshape(cols.shape[0], channels, k).transpose(0, 2, 1)
    return cols.reshape(cols.shape[0], k, channels)


def empty_windows(
    n: int, k: int, c: int, columns: str, in_column_major: bool, dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Uninitialised columns (N, C*K) in ``columns`` order and the given memory order, and a
    (N, K, C) view of them."""
    sizes = {"n": n, "k": k, "c": c}
    axes = "nck" if columns == "chw" else "nkc"
    memory = axes[1:] + "n" if in_column_major else axes
    block = np.empty([sizes[axis] for axis in memory], dtype=dtype)
    cols = block.reshape(c * k, n).T if in_column_major else block.reshape(n, c * k)
    return cols, block.transpose(*(memory.index(axis) for axis in "nkc"))


def aligned(array: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``array`` in the memory order of ``like`` (2-D): one copy where they differ beats many
    passes against the grain."""
    if column_major(array) == column_major(like):
        return array
    out = np.empty_like(like, dtype=array.dtype)
    out[...] = array
    return out


def product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D operands, kept in ``a``'s memory order: column-major "hwb" columns
    give a column-major product, computed as (b^T @ a^T)^T."""
    return (b.T @ a.T).T if column_major(a) else a @ b


def product_input_gradient(grad: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``grad @ b^T``, column-major, computed as (b @ grad^T)^T: the layout col2im accumulates
    fastest when ``a`` was a convolution's im2col columns."""
    return (b @ grad.T).T


def memory_order(strides: tuple[int, ...]) -> tuple[int, ...]:
    """An array's axes from outermost to innermost in memory, read from its ``strides``; a
    flipped (negative-stride) axis is as far apart in memory as its size says."""
    return tuple(int(i) for i in np.argsort(np.abs(strides), kind="stable")[::-1])


def full_in_order(shape: tuple[int, ...], value, dtype, strides: tuple[int, ...]) -> np.ndarray:
    """A new array of ``shape`` filled with ``value``, its axes in memory in the order of
    ``strides`` (another array's, of the same number of axes), where np.full and np.pad give
    C order: (C, H, W, B)-stored activations and their gradients stay so, and the ops after
    keep reading them in long runs."""
    order = memory_order(strides)
    block = np.full([shape[i] for i in order], value, dtype=dtype)
    return block.transpose(np.argsort(order))


def blas_ready(array: np.ndarray, in_column_major: bool = False) -> np.ndarray:
    """``array`` itself if contiguous either way, else a copy in the given memory order: BLAS
    needs it, and a broadcast or strided array would fall back to slow loops."""
    if array.flags.c_contiguous or array.flags.f_contiguous:
        return array
    return np.asfortranarray(array) if in_column_major else np.ascontiguousarray(array)


# Choosing the orders by measurement --------------------------------------------------------
#
# Which order is fastest depends on the machine's BLAS: on a Zen 4 whose OpenBLAS picks
# SkylakeX kernels, the forward product on row-major columns took 3.75 ms and on column-major
# ones 5.18 ms, while the copies favour the column-major "hwb" columns. So, as cuDNN's
# benchmark mode does for its algorithms, the first conv2d or pool of each geometry times the
# candidates' whole chain, im2col -> matmul (or the window max) -> col2im, and keeps the winner.

CONV_ORDERS = (("hwc", "hwb"), ("hwc", "bhw"), ("chw", "bhw"), ("chw", "hwb"))
"""The candidate (columns, rows) pairs of conv2d and the pools; the first is the fixed
default."""

TUNE_MIN_BYTES = 1 << 18
"""Geometries whose columns are smaller than this take the default without timing: the copies
then cost microseconds whatever their order."""

TUNE_MAX_BYTES = 1 << 27
"""Nor are geometries whose columns exceed this (128 MiB) timed: twelve extra passes over
them would cost seconds and as much memory again, more than a better order wins back in most
runs."""

# None: follow TINYGRAD_CNN_AUTOTUNE (on unless "0") and TINYGRAD_CNN_LAYOUT_CACHE (a path)
_settings: dict = {"autotune": None, "cache": None}
_chosen: dict[tuple, tuple[str, str]] = {}
_lock = threading.Lock()


def set_autotune(enabled: bool | None) -> None:
    """Switch the choice of conv2d's and the pools' orders by measurement on (True) or off
    (False: always the fixed default, for timings that do not depend on an earlier
    measurement); None returns to the environment's TINYGRAD_CNN_AUTOTUNE (on unless it is
    "0")."""
    _settings["autotune"] = enabled


def set_layout_cache(path: str | None) -> None:
    """Keep the orders chosen by measurement in this JSON file too, read before timing: a run
    that resumes, or any later run on this machine, then uses the same orders (and computes
    the same bits). None returns to TINYGRAD_CNN_LAYOUT_CACHE (no file when unset)."""
    _settings["cache"] = path


def _cache_path() -> str | None:
    return _settings["cache"] or os.environ.get("TINYGRAD_CNN_LAYOUT_CACHE")


def autotune_enabled() -> bool:
    """Whether conv2d and the pools choose their orders by measurement (see
    :func:`set_autotune`)."""
    if _settings["autotune"] is not None:
        return _settings["autotune"]
    return os.environ.get("TINYGRAD_CNN_AUTOTUNE", "1") != "0"


def conv_orders(x: np.ndarray, m: int, geometry) -> tuple[str, str]:
    """(columns, rows) for a conv2d of input ``x`` (B, C, H, W) into ``m`` channels.

    The fixed default when autotuning is off or the columns are small or huge (see
    :data:`TUNE_MIN_BYTES`, :data:`TUNE_MAX_BYTES`); else the fastest
    candidate for this geometry, timed once per process (and read from or written to the
    file of :func:`set_layout_cache`, when set, so later runs skip the timing and use the
    same orders). Every candidate computes the same convolution; the sums inside the
    products run in another order, so results agree to float rounding, not bit for bit.
    """
    key = (x.shape, memory_order(x.strides), m, tuple(geometry), x.dtype.str)
    return _measured(
        x, geometry, key, lambda sample, orders: _chain_seconds(sample, m, geometry, *orders)
    )


def pool_orders(x: np.ndarray, geometry) -> tuple[str, str]:
    """(columns, rows) for a max or average pool of input ``x`` (B, C, H, W), chosen as
    :func:`conv_orders` chooses, by timing im2col, the max over each window and col2im.
    Every candidate gives the same maxima, bit for bit."""
    key = ("pool", x.shape, memory_order(x.strides), tuple(geometry), x.dtype.str)
    return _measured(
        x, geometry, key, lambda sample, orders: _pool_seconds(sample, geometry, *orders)
    )


def _measured(x: np.ndarray, geometry, key: tuple, seconds) -> tuple[str, str]:
    """The default, or the candidate for ``key`` with the fewest ``seconds(sample, orders)``:
    remembered, and kept in the cache file when one is set."""
    (kh, kw), (oh, ow) = geometry.kernel_size, geometry.out_size
    size = x.shape[0] * oh * ow * x.shape[1] * kh * kw * x.itemsize
    if not autotune_enabled() or not TUNE_MIN_BYTES <= size <= TUNE_MAX_BYTES:
        return CONV_ORDERS[0]
    with _lock:
        if key not in _chosen:
            _chosen[key] = _stored(key) or _store(key, _fastest(x, seconds))
        return _chosen[key]


def _fastest(x: np.ndarray, seconds) -> tuple[str, str]:
    """The candidate with the fewest ``seconds(sample, orders)`` on arrays like ``x``."""
    sample = np.ones_like(x)  # same shape, dtype and memory order; values do not matter
    times = {orders: seconds(sample, orders) for orders in CONV_ORDERS}
    return min(CONV_ORDERS, key=times.__getitem__)  # ties keep the default


def chosen_orders() -> dict[tuple, tuple[str, str]]:
    """The orders measured so far in this process: {(input shape, its memory order as axes
    outermost first, M, geometry, dtype): (columns, rows)} for convolutions, and
    {("pool", input shape, memory order, geometry, dtype): (columns, rows)} for pools."""
    with _lock:
        return dict(_chosen)


def _chain_seconds(x: np.ndarray, m: int, geometry, columns: str, rows: str) -> float:
    """Best of three runs of conv2d's array work in these orders: im2col, the product, its
    two gradient products and col2im."""
    weights = np.ones((x.shape[1] * geometry.kernel_size[0] * geometry.kernel_size[1], m), x.dtype)

    def chain() -> None:
        cols = im2col(x, geometry, 0.0, columns, rows)
        out = product(cols, weights)
        grad = np.ones_like(out)
        cols.T @ grad  # the weight's gradient
        col2im(product_input_gradient(grad, weights), x.shape, geometry, columns, rows)

    return _best_of_three(chain)


def _pool_seconds(x: np.ndarray, geometry, columns: str, rows: str) -> float:
    """Best of three runs of a pool's array work in these orders: im2col, the max over each
    window, the gradient's spread back over the windows and col2im."""
    channels = x.shape[1]

    def chain() -> None:
        cols = im2col(x, geometry, 0.0, columns, rows)
        windows = window_view("pool", cols, channels, columns)
        pooled = windows.max(axis=1)
        grad, grad_windows = empty_windows(
            len(pooled), windows.shape[1], channels, columns, column_major(cols), x.dtype
        )
        grad_windows[...] = pooled[:, None, :]
        col2im(grad, x.shape, geometry, columns, rows)

    return _best_of_three(chain)


def _best_of_three(run) -> float:
    """Seconds of the fastest of three calls of ``run``."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _machine() -> str:
    """What the timings depend on besides the geometry: numpy, its BLAS and BLAS settings."""
    # numpy < 1.25 (built with distutils) has no CONFIG: its BLAS then goes unnamed
    config = getattr(np.__config__, "CONFIG", None)
    blas = config.get("Build Dependencies", {}).get("blas", {}) if isinstance(config, dict) else {}
    settings = [f"{v}={os.environ[v]}" for v in sorted(os.environ) if v.startswith("OPENBLAS")]
    return " ".join([np.__version__, blas.get("name", "?"), blas.get("version", "?"), *settings])


def _stored(key: tuple) -> tuple[str, str] | None:
    path = _cache_path()
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            found = json.load(f).get(_machine(), {}).get(repr(key))
    except (OSError, ValueError, AttributeError):
        return None  # an unreadable cache only costs a measurement
    # anything but a known pair (a number, a string, a list of lists) counts as absent
    return tuple(found) if isinstance(found, list) and tuple(found) in CONV_ORDERS else None


def _store(key: tuple, orders: tuple[str, str]) -> tuple[str, str]:
    path = _cache_path()
    if not path:
        return orders
    try:
        with _file_lock(path):
            _add_entry(path, key, orders)
    except OSError:
        pass  # a cache that cannot be written only costs the next run a measurement
    return orders


def _add_entry(path: str, key: tuple, orders: tuple[str, str]) -> None:
    """Read the cache file, add one entry and replace the file whole: readers see the old file
    or the new one, never half."""
    try:
        with open(path) as f:
            table = json.load(f)
    except (OSError, ValueError):
        table = {}
    table = table if isinstance(table, dict) else {}
    machine = table.get(_machine())
    table[_machine()] = {**(machine if isinstance(machine, dict) else {}), repr(key): list(orders)}
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w") as f:
            json.dump(table, f, indent=1)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):  # the replace failed (e.g. the path is a folder)
            os.remove(temporary)


@contextlib.contextmanager
def _file_lock(path: str):
    """Hold an exclusive lock on ``path`` + ".lock" where the OS offers one (POSIX flock):
    two processes adding entries at once would each write back the table it read, and one
    process's entries would vanish."""
    try:
        import fcntl
    except ImportError:  # Windows: unlocked, as before; a lost entry costs a measurement
        yield
        return
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
