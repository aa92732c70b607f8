"""Regenerate the matplotlib figures shown in docs/ from the code itself.

    python tools/render_docs_figures.py

Each figure is two files in docs/images: NAME.json, the numbers it draws (computed here by
tinygrad_cnn's own ops), and NAME.png, the picture. tests/test_viz.py checks that each
NAME.json still matches what this produces, so a change in the ops that alters a figure's
numbers fails until the figure is redrawn. (PNG bytes depend on the matplotlib and FreeType
versions, so the test compares the numbers, and only checks that drawing still works.)
"""

import json
from pathlib import Path

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"

# docs/tutorial.md's 4x4 image, section 1
IMAGE = np.array(
    [[1.0, 2.0, 0.0, 1.0], [0.0, 1.0, 3.0, 1.0], [2.0, 0.0, 1.0, 2.0], [1.0, 1.0, 0.0, 3.0]]
)
WINDOW_COLOURS = [
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
    "#a65628",
    "#f781bf",
    "#17becf",
    "#7f7f00",
]
OFFSET_COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#ff7f00"]


def im2col_windows_data() -> dict:
    """F.im2col of the tutorial's image, 2x2 windows, stride 1: which window each row is."""
    cols = F.im2col(tc.Tensor(IMAGE.reshape(1, 1, 4, 4)), kernel_size=2).data
    windows = []
    for r, row in enumerate(cols):  # find each row's window in the image: the figure's claim
        found = [
            (i, j)
            for i in range(3)
            for j in range(3)
            if np.array_equal(IMAGE[i : i + 2, j : j + 2].ravel(), row)
        ]
        windows.append(found[0] if (r // 3, r % 3) in found else None)
    return dict(
        image=IMAGE.tolist(),
        kernel_size=2,
        columns=cols.tolist(),
        window_of_row=[None if w is None else list(w) for w in windows],
    )


def col2im_slabs_data() -> dict:
    """col2im of all-ones columns (the gradient .sum() sends), one kernel offset at a time: each
    offset's slab is F.col2im of a columns matrix holding ones in that offset's column only;
    the slabs add up to F.col2im of all ones, the coverage map."""
    shape, k = (1, 1, 4, 4), 2
    ones = np.ones((9, k * k), dtype=np.float32)
    slabs = []
    for c in range(k * k):
        only = np.zeros_like(ones)
        only[:, c] = 1
        slabs.append(F.col2im(tc.Tensor(only), shape, k).data[0, 0])
    coverage = F.col2im(tc.Tensor(ones), shape, k).data[0, 0]
    assert np.array_equal(sum(slabs), coverage)
    return dict(
        offsets=[[c // k, c % k] for c in range(k * k)],
        slabs=[s.tolist() for s in slabs],
        coverage=coverage.tolist(),
    )


def memory_order_data() -> dict:
    """The columns of a labelled batch (value 100*b + 10*h + w; B = 2, C = 1, 3x3, kernel 2) in
    the textbook layout (F.im2col: rows (b, o_h, o_w), row-major) and in conv2d's (rows
    (o_h, o_w, b), columns (k_h, k_w, c), column-major), each cell with its position in memory,
    read from the array's own strides."""
    from tinygrad_cnn.ops import layout
    from tinygrad_cnn.ops.window import window_geometry

    b, h, w = np.meshgrid(np.arange(2), np.arange(3), np.arange(3), indexing="ij")
    x = (100 * b + 10 * h + w).reshape(2, 1, 3, 3).astype(np.float32)
    layouts = {}
    for name, cols in (
        ("textbook", F.im2col(tc.Tensor(x), kernel_size=2).data),
        (
            "conv2d",
            layout.im2col(
                x.transpose(1, 2, 3, 0).copy().transpose(3, 0, 1, 2),
                window_geometry("im2col", x.shape, 2, 1, 0),
                0.0,
                columns="hwc",
                rows="hwb",
            ),
        ),
    ):
        rows, columns = np.indices(cols.shape)
        memory = (rows * cols.strides[0] + columns * cols.strides[1]) // cols.itemsize
        layouts[name] = dict(values=cols.tolist(), memory=memory.tolist())
    return layouts


def draw_memory_order(data: dict):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 6.2))
    titles = {
        "textbook": "textbook: F.im2col, rows (b, o_h, o_w)\nstored row by row",
        "conv2d": "conv2d: rows (o_h, o_w, b), columns (k_h, k_w)\nstored column by column",
    }
    for ax, (name, layout) in zip(axes, data.items()):
        values, memory = np.array(layout["values"]), np.array(layout["memory"])
        fills = [[_tint("#377eb8", 0.15 + 0.6 * m / memory.max()) for m in row] for row in memory]
        _grid(ax, values, fills, title=titles[name], fontsize=13)
        for i, j in np.ndindex(memory.shape):
            ax.text(
                j + 0.93,
                i + 0.9,
                str(memory[i, j]),
                ha="right",
                va="bottom",
                fontsize=8,
                color="#b2182b",
            )
    fig.text(
        0.5,
        0.02,
        "value 100b + 10h + w of the input pixel; red: its position in memory (darker = later)",
        ha="center",
        fontsize=11,
        color="#555555",
    )
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def _grid(ax, values, colours=None, title="", fontsize=14):
    """Draw a matrix as a grid of cells with its numbers; colours: one fill per cell or None."""
    values = np.asarray(values)
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            fill = colours[i][j] if colours is not None else "white"
            ax.add_patch(_rect(j, i, 1, 1, facecolor=fill, edgecolor="#999999", linewidth=0.8))
            ax.text(
                j + 0.5, i + 0.5, f"{values[i, j]:g}", ha="center", va="center", fontsize=fontsize
            )
    ax.set_xlim(-0.05, cols + 0.05)
    ax.set_ylim(rows + 0.05, -0.05)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=14)


def _rect(x, y, w, h, **style):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, **style)


def _tint(colour: str, alpha: float = 0.3) -> tuple:
    from matplotlib.colors import to_rgb

    return tuple(1 - alpha * (1 - c) for c in to_rgb(colour))


def draw_im2col_windows(data: dict):
    import matplotlib.pyplot as plt

    image, cols = np.array(data["image"]), np.array(data["columns"])
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(10, 5.6), gridspec_kw=dict(width_ratios=[1.05, 1])
    )
    _grid(
        left,
        image,
        title="image (4 x 4): window r outlined,\nits number at its centre",
        fontsize=16,
    )
    for r, (i, j) in enumerate(data["window_of_row"]):
        inset = 0.05 + 0.035 * (r % 3)  # nested outlines stay apart where windows overlap
        colour = WINDOW_COLOURS[r]
        left.add_patch(
            _rect(
                j + inset,
                i + inset,
                2 - 2 * inset,
                2 - 2 * inset,
                fill=False,
                edgecolor=colour,
                linewidth=2.2,
            )
        )
        left.text(
            j + 1,
            i + 1,
            str(r),
            ha="center",
            va="center",
            fontsize=12,
            color="white",
            fontweight="bold",
            bbox=dict(boxstyle="circle,pad=0.25", facecolor=colour, edgecolor="none"),
        )
    fills = [[_tint(WINDOW_COLOURS[r], 0.45)] * cols.shape[1] for r in range(len(cols))]
    _grid(
        right,
        cols,
        fills,
        title="F.im2col(x, kernel_size=2): row r = window r\nread row by row",
        fontsize=14,
    )
    for r in range(len(cols)):
        right.text(
            -0.15,
            r + 0.5,
            f"row {r}",
            ha="right",
            va="center",
            fontsize=12,
            color=WINDOW_COLOURS[r],
            fontweight="bold",
        )
    for c, (ki, kj) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        right.text(
            c + 0.5,
            len(cols) + 0.35,
            f"({ki},{kj})",
            ha="center",
            va="center",
            fontsize=11,
            color="#555555",
        )
    right.text(
        2,
        len(cols) + 0.9,
        "column: offset (k_h, k_w) inside the window",
        ha="center",
        va="center",
        fontsize=11,
        color="#555555",
    )
    right.set_xlim(-1.3, cols.shape[1] + 0.05)
    right.set_ylim(len(cols) + 1.2, -0.05)
    fig.tight_layout()
    return fig


def draw_col2im_slabs(data: dict):
    import matplotlib.pyplot as plt

    n = len(data["slabs"])
    fig, axes = plt.subplots(
        1, 2 * n + 1, figsize=(13, 3.3), gridspec_kw=dict(width_ratios=[1, 0.22] * n + [1])
    )
    for c, (slab, (ki, kj)) in enumerate(zip(data["slabs"], data["offsets"])):
        slab = np.array(slab)
        fills = [[_tint(OFFSET_COLOURS[c], 0.45) if v else "white" for v in row] for row in slab]
        _grid(axes[2 * c], slab, fills, fontsize=13)
        axes[2 * c].set_title(
            f"offset ({ki},{kj}):\ncolumn {c} added\nat image[{ki}:{ki + 3}, {kj}:{kj + 3}]",
            fontsize=12,
            color=OFFSET_COLOURS[c],
        )
        sign = axes[2 * c + 1]
        sign.axis("off")
        sign.text(
            0.5,
            0.5,
            "+" if c < n - 1 else "=",
            ha="center",
            va="center",
            fontsize=26,
            transform=sign.transAxes,
        )
    coverage = np.array(data["coverage"])
    shades = {1: "#f2f2f2", 2: "#cccccc", 4: "#999999"}
    _grid(
        axes[-1],
        coverage,
        [[shades.get(int(v), "white") for v in row] for row in coverage],
        fontsize=13,
    )
    axes[-1].set_title("coverage map:\nF.col2im(ones)\n= x.grad of .sum()", fontsize=12)
    fig.tight_layout()
    return fig


FIGURES = {  # name: (the numbers, drawn from them)
    "im2col_windows": (im2col_windows_data, draw_im2col_windows),
    "col2im_slabs": (col2im_slabs_data, draw_col2im_slabs),
    "memory_order": (memory_order_data, draw_memory_order),
}


def render(name: str, path: Path) -> None:
    """Draw figure ``name`` from its numbers into ``path`` (a PNG about 1300 px wide)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    make, draw = FIGURES[name]
    fig = draw(make())
    fig.savefig(path, dpi=100, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


def as_json(data: dict) -> str:
    return json.dumps(data, indent=1) + "\n"


if __name__ == "__main__":
    for name, (make, _draw) in FIGURES.items():
        (IMAGES / f"{name}.json").write_text(as_json(make()))
        render(name, IMAGES / f"{name}.png")
        print(f"wrote {IMAGES / name}.json and .png")
