"""Where the time and memory go: each op application's forward and backward wall time, the
bytes of its output and of the arrays it saved for backward, and the module that ran it.

    with tc.profile() as prof:
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
    print(prof.table(sort_by="total", group_by="op"))     # or group_by="module"

A running profile belongs to the thread that started it: ops other threads run are not
recorded. With none running anywhere, the op base and the engine pay one test of a module
global (``function.profiling``) per op and per backward pass. A profile refers to graph nodes
only weakly, so a finished step's arrays are freed as without it; its records grow by one
small object per op application.

Times are self times: an op's backward rule that runs other ops (``create_graph=True``) is
charged without them, as they get records of their own, so the rows add up to the total.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from time import perf_counter
from typing import Any, NamedTuple

from . import function
from .function import Function
from .recorded import bytes_text, module_names

__all__ = ["profile", "OpRecord", "ProfileRow"]


class OpRecord:
    """One op application seen by a profile.

    op:             the registered op name.
    module:         dotted path of the innermost module whose forward ran it, named as
                    ``draw_graph`` names it ("" for the outermost module and outside modules).
    module_type:    that module's class name ("" outside modules).
    calls:          1, or 0 for a node whose forward ran before the profile started and whose
                    backward ran inside it.
    forward_s:      seconds of its forward.
    backward_s:     seconds of its backward rule, summed over backward passes (0.0 before any).
    backward_calls: how many times its backward rule ran.
    output_bytes:   ``nbytes`` of its output.
    saved_bytes:    ``nbytes`` summed over the arrays it saved for backward, at the end of
                    forward (0 when it recorded no node: no input needed a gradient).
    """

    __slots__ = (
        "op",
        "module",
        "module_type",
        "calls",
        "forward_s",
        "backward_s",
        "backward_calls",
        "output_bytes",
        "saved_bytes",
        "_node",
    )

    def __init__(
        self,
        op: str,
        module: str,
        module_type: str,
        calls: int,
        forward_s: float,
        output_bytes: int,
        saved_bytes: int,
        node: weakref.ref | None,
    ):
        self.op, self.module, self.module_type, self.calls = op, module, module_type, calls
        self.forward_s, self.backward_s, self.backward_calls = forward_s, 0.0, 0
        self.output_bytes, self.saved_bytes, self._node = output_bytes, saved_bytes, node

    @property
    def node(self) -> Function | None:
        """The graph node (the op's ctx) while it is alive; None once freed, or when the
        application recorded no node."""
        return None if self._node is None else self._node()

    @property
    def total_s(self) -> float:
        """Forward plus backward seconds."""
        return self.forward_s + self.backward_s

    def __repr__(self) -> str:
        where = f" in {self.module or self.module_type}" if self.module_type else ""
        return (
            f"<OpRecord {self.op}{where}: forward {self.forward_s * 1e6:.1f} us, backward "
            f"{self.backward_s * 1e6:.1f} us, output {self.output_bytes} B, saved "
            f"{self.saved_bytes} B>"
        )


class ProfileRow(NamedTuple):
    """The records of one op or module, summed: a row of :meth:`profile.table`."""

    name: str
    calls: int
    forward_s: float
    backward_s: float
    output_bytes: int
    saved_bytes: int

    @property
    def total_s(self) -> float:
        """Forward plus backward seconds."""
        return self.forward_s + self.backward_s

    @property
    def avg_s(self) -> float:
        """Total seconds per call (the total itself when the row has only backward passes)."""
        return self.total_s / max(self.calls, 1)


_SORT_KEYS: dict[str, Callable[[ProfileRow], Any]] = {
    "total": lambda r: -r.total_s,
    "forward": lambda r: -r.forward_s,
    "backward": lambda r: -r.backward_s,
    "avg": lambda r: -r.avg_s,
    "calls": lambda r: -r.calls,
    "output": lambda r: -r.output_bytes,
    "saved": lambda r: -r.saved_bytes,
    "name": lambda r: r.name,
}
_GROUPS = ("op", "module")
_counting = threading.Lock()  # profiles start and stop in any thread
_SUMMED = ProfileRow._fields[1:]


class profile:
    """Context manager recording the ops this thread runs: ``with tc.profile() as prof:``.

    Attributes, filled while it runs:
      records:        one :class:`OpRecord` per op application, in the order they ran.
      backward_order: one list per backward pass (``backward()`` or ``tc.grad``), in the order
                      the passes ran; each holds the records of the nodes whose backward rules
                      the engine applied, in the order it applied them.

    Profiles nest: an inner one records into the outer ones too (the same record objects).
    ``start()`` and ``stop()`` do what the ``with`` block does; a stopped profile can be
    started again and adds to what it holds. The end of a ``with`` block also stops any
    profile started inside it and left running, and then raises RuntimeError (unless an
    exception is already leaving the block).
    """

    def __init__(self) -> None:
        self.records: list[OpRecord] = []
        self.backward_order: list[list[OpRecord]] = []
        self._by_node: dict[int, OpRecord] = {}
        self._names: dict[tuple, tuple[str, str]] = {}  # scope -> (path, class), while running
        self._chain: tuple[profile, ...] = ()  # the thread's running profiles, this one last
        self._outer: profile | None = None
        self._thread: int | None = None
        self._nested = 0.0  # self seconds of finished timed regions: what enclosing ones subtract

    # ---- starting and stopping ----------------------------------------------------------------
    def start(self) -> profile:
        """Start recording this thread's ops; returns the profile."""
        if self._thread is not None:
            raise RuntimeError("profile.start: this profile is already running")
        mode = function._mode
        self._outer = mode.profiler
        self._chain = (self._outer._chain if self._outer is not None else ()) + (self,)
        self._thread = threading.get_ident()
        with _counting:
            function.profiling += 1
        mode.profiler = self
        return self

    def stop(self) -> None:
        """Stop recording; the records stay."""
        if self._thread != threading.get_ident():
            raise RuntimeError(
                "profile.stop: this profile is not running in this thread"
                if self._thread is None
                else "profile.stop: call it from the thread that started the profile"
            )
        mode = function._mode
        if mode.profiler is not self:
            raise RuntimeError("profile.stop: a profile started inside this one is still running")
        mode.profiler, self._outer, self._chain, self._thread = self._outer, None, (), None
        with _counting:
            function.profiling -= 1
        self._names.clear()  # it holds modules, which should not outlive their use

    @property
    def running(self) -> bool:
        """Whether this profile is recording (between ``start()`` and ``stop()``)."""
        return self._thread is not None

    def __enter__(self) -> profile:
        return self.start()

    def __exit__(self, kind: type | None, *exc: Any) -> None:
        # A profile start()ed inside the block and never stopped (an exception skipped its
        # stop()) would keep timing every op of the thread: stop it too, then say so, unless
        # an exception is already on its way out.
        left = 0
        while self._thread == threading.get_ident() and function._mode.profiler is not self:
            function._mode.profiler.stop()
            left += 1
        self.stop()
        if left and kind is None:
            raise RuntimeError(
                f"profile: {left} profile(s) started inside this `with` block were still "
                "running at its end; they were stopped with it"
            )

    # ---- hooks: Function.apply and the engine call these while this profile is the thread's --
    def run_forward(self, op: type[Function], ctx: Function, arrays: list, attrs: dict) -> Any:
        """Run ``op.forward`` as ``Function.apply`` would, timed, and record the application."""
        nested = self._nested
        start = perf_counter()
        out = op.forward(ctx, *arrays, **attrs)
        seconds = max(perf_counter() - start - (self._nested - nested), 0.0)  # float rounding
        self._nested += seconds
        recorded = not ctx.freed  # apply records a node exactly when it leaves ctx unfreed
        record = OpRecord(
            op.name,
            *self._module_of(function._mode.scope),
            1,
            seconds,
            _nbytes(out),
            _saved_bytes(ctx) if recorded else 0,
            weakref.ref(ctx) if recorded else None,
        )
        for running in self._chain:
            running._add(record, ctx if recorded else None)
        return out

    def timed_rules(self, rule: Callable[..., tuple]) -> Callable[..., tuple]:
        """Wrap the engine's rule runner ``rule(ctx, output, grad, create_graph)`` for one
        backward pass: each call is timed onto the node's record in every running profile of
        the thread, and noted in each one's order for this pass."""
        chain = self._chain
        orders: list[list[OpRecord]] = [[] for _ in chain]
        for running, order in zip(chain, orders):
            running.backward_order.append(order)

        def timed(ctx: Function, output: Any, grad: Any, create_graph: bool) -> tuple:
            # a profile started after the node's forward has no record of it yet
            records = [p.node_record(ctx) or p._backward_only(ctx, output) for p in chain]
            nested = self._nested
            start = perf_counter()
            grads = rule(ctx, output, grad, create_graph)
            seconds = max(perf_counter() - start - (self._nested - nested), 0.0)
            self._nested += seconds
            for record in {id(r): r for r in records}.values():  # nested profiles share one
                record.backward_s += seconds
                record.backward_calls += 1
            for record, order in zip(records, orders):
                order.append(record)
            return grads

        return timed

    # ---- reading --------------------------------------------------------------------------------
    def node_record(self, node: Function) -> OpRecord | None:
        """The record of the application that made ``node`` (a tensor's ``_ctx``); None when
        this profile saw neither its forward nor its backward."""
        record = self._by_node.get(id(node))
        return record if record is not None and record.node is node else None

    def summary(self, group_by: str = "op") -> list[ProfileRow]:
        """The records summed per op name (``group_by="op"``) or per module (``"module"``:
        each op counts toward the innermost module running it, named "path (Class)", the
        outermost module by its class alone, and "(no module)" outside modules)."""
        if group_by not in _GROUPS:
            raise ValueError(
                f"profile.summary: group_by must be 'op' or 'module', got {group_by!r}"
            )
        sums: dict[str, list] = {}
        for r in self.records:
            key = r.op if group_by == "op" else _module_label(r.module, r.module_type)
            row = sums.setdefault(key, [0, 0.0, 0.0, 0, 0])
            row[0] += r.calls
            row[1] += r.forward_s
            row[2] += r.backward_s
            row[3] += r.output_bytes
            row[4] += r.saved_bytes
        return [ProfileRow(name, *row) for name, row in sums.items()]

    def table(self, sort_by: str = "total", group_by: str = "op", top: int | None = None) -> str:
        """A text table as torch.profiler's ``key_averages().table()``: per op (or module),
        calls, forward, backward and total seconds, share of the total, average per call,
        and output and saved bytes summed over calls; ``top`` rows, sorted by ``sort_by``
        ("total", "forward", "backward", "avg", "calls", "output", "saved" or "name")."""
        if sort_by not in _SORT_KEYS:
            raise ValueError(
                f"profile.table: sort_by must be one of {', '.join(_SORT_KEYS)}, got {sort_by!r}"
            )
        if top is not None and (not isinstance(top, int) or top < 1):
            raise ValueError(f"profile.table: top must be a positive int or None, got {top!r}")
        rows = sorted(self.summary(group_by), key=_SORT_KEYS[sort_by])
        total = ProfileRow("total", *(sum(getattr(r, f) for r in rows) for f in _SUMMED))
        return _format_table(group_by, rows[:top], total)

    def __str__(self) -> str:
        return self.table()

    # ---- recording ------------------------------------------------------------------------------
    def _add(self, record: OpRecord, node: Function | None) -> None:
        self.records.append(record)
        if node is not None:
            self._by_node[id(node)] = record

    def _module_of(self, scope: tuple) -> tuple[str, str]:
        """(path, class name) of the innermost module in ``scope``, computed once per scope."""
        found = self._names.get(scope)
        if found is None:
            found = (module_names([scope])[scope], type(scope[-1]).__name__) if scope else ("", "")
            self._names[scope] = found
        return found

    def _backward_only(self, ctx: Function, output: Any) -> OpRecord:
        """A record for a node whose forward ran before this profile started."""
        record = OpRecord(
            ctx.name,
            *self._module_of(getattr(ctx, "scope", ())),
            0,
            0.0,
            _nbytes(output._data),
            _saved_bytes(ctx),
            weakref.ref(ctx),
        )
        self._add(record, ctx)
        return record


def _nbytes(array: Any) -> int:
    nbytes = getattr(array, "nbytes", None)
    return int(nbytes) if nbytes is not None else 0


def _saved_bytes(ctx: Function) -> int:
    return sum(_nbytes(a) for a in ctx.saved_tensors)


def _module_label(path: str, class_name: str) -> str:
    if not class_name:
        return "(no module)"
    return f"{path} ({class_name})" if path else class_name


# ---- the table --------------------------------------------------------------------------------
_HEADER = ("calls", "forward", "backward", "total", "share", "avg", "output", "saved")


def _format_table(group_by: str, rows: list[ProfileRow], total: ProfileRow) -> str:
    """Rows of text in columns: name left-aligned, numbers right-aligned, a rule under the
    header and above the total."""
    grand = total.total_s

    def cells(row: ProfileRow) -> list[str]:
        share = row.total_s / grand if grand > 0 else 0.0
        return [
            row.name,
            str(row.calls),
            _seconds_text(row.forward_s),
            _seconds_text(row.backward_s),
            _seconds_text(row.total_s),
            f"{share:.1%}",
            _seconds_text(row.avg_s),
            bytes_text(row.output_bytes),
            bytes_text(row.saved_bytes),
        ]

    lines = [[group_by, *_HEADER]] + [cells(r) for r in rows] + [cells(total)]
    widths = [max(len(line[c]) for line in lines) for c in range(len(lines[0]))]
    rule = "  ".join("-" * w for w in widths)
    text = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))
        )
        for line in lines
    ]
    return "\n".join([rule, text[0], rule, *text[1:-1], rule, text[-1], rule])


def _seconds_text(seconds: float) -> str:
    """A duration in a unit that keeps 3-4 digits: '812.3 us', '12.34 ms', '1.234 s'."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"
