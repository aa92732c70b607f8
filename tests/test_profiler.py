"""tc.profile: one record per op application, matching the graph the step recorded; grouping,
the table, threads and nesting, no references kept, and train --profile."""

import gc
import math
import re
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest
from helpers import load_tool

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import engine, function, nn
from tinygrad_cnn.cli import main
from tinygrad_cnn.data import load_digits
from tinygrad_cnn.models import lenet
from tinygrad_cnn.recorded import collect

COLUMNS = ["calls", "forward", "backward", "total", "share", "avg", "output", "saved"]


def _batch(rng, batch=4):
    return tc.Tensor(rng.random((batch, 1, 8, 8), dtype=np.float32)), np.arange(batch) % 10


def _nbytes(tensor) -> int:
    """Bytes of a tensor's values, also for a ReleasedTensor (which keeps only the shape)."""
    return math.prod(tensor.shape) * np.dtype(tensor.dtype).itemsize


def _profiled_step(rng, model=None):
    """A LeNet step (forward, backward) profiled; the profile, the loss, and per graph node
    the bytes it held saved at the end of forward and the engine's backward order."""
    model = model or lenet()
    images, labels = _batch(rng)
    with tc.profile() as prof:
        loss = F.cross_entropy(model(images), labels)
        ops = collect([loss]).ops
        saved = {id(op): sum(a.nbytes for a in op.saved_tensors if a is not None) for op in ops}
        order = [t._ctx for t in engine.topological_order(loss)]
        loss.backward()
    return prof, model, loss, saved, order


def _rows(table: str) -> list[list[str]]:
    """The table's lines between its rules, split into cells (two or more spaces apart)."""
    lines = [line for line in table.splitlines() if not set(line) <= {"-", " "}]
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


def test_every_node_of_a_lenet_step_has_one_record_with_its_op_module_and_bytes(rng):
    prof, model, loss, saved, order = _profiled_step(rng)
    recorded = collect([loss])
    path_of = {id(m): name for name, m in model.named_modules()}
    assert len(recorded.ops) > 20
    for i, o in recorded.producer.items():
        op, output = recorded.ops[o], recorded.tensors[i]
        record = prof.node_record(op)
        assert record is not None and record.node is op
        assert record.op == op.name
        assert record.module == (path_of[id(op.scope[-1])] if op.scope else "")
        assert record.module_type == (type(op.scope[-1]).__name__ if op.scope else "")
        assert record.output_bytes == _nbytes(output)
        assert record.saved_bytes == saved[id(op)]
        assert record.calls == 1 and record.forward_s >= 0
        assert record.backward_calls == 1 and record.backward_s >= 0
    nodes = [r.node for r in prof.records if r.node is not None]
    assert sorted(map(id, nodes)) == sorted(map(id, recorded.ops))  # each node once
    # the only op run without a node: the first conv's im2col, on images needing no gradient
    unrecorded = [r for r in prof.records if r.node is None]
    assert [(r.op, r.module, r.backward_calls) for r in unrecorded] == [("im2col", "0", 0)]
    assert unrecorded[0].saved_bytes == 0 and unrecorded[0].output_bytes > 0
    assert {r.module for r in prof.records} == {"", "0", "1", "2", "3", "4", "5", "6", "7"}
    assert [r.node for r in prof.backward_order[0]] == order
    assert len(prof.backward_order) == 1


def test_nested_module_paths_are_dotted():
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Linear(4, 2))
    x = tc.Tensor(np.ones((2, 3), dtype=np.float32))
    with tc.profile() as prof:
        model(x).sum().backward()
    assert [(r.op, r.module, r.module_type) for r in prof.records] == [
        ("transpose", "0.0", "Linear"),
        ("matmul", "0.0", "Linear"),
        ("bias_add", "0.0", "Linear"),
        ("relu", "0.1", "ReLU"),
        ("transpose", "1", "Linear"),
        ("matmul", "1", "Linear"),
        ("bias_add", "1", "Linear"),
        ("sum", "", ""),
    ]
    rows = {row.name: row for row in prof.summary("module")}
    assert set(rows) == {"0.0 (Linear)", "0.1 (ReLU)", "1 (Linear)", "(no module)"}


def test_grouping_by_op_and_by_module_sums_the_records(rng):
    prof = _profiled_step(rng)[0]
    for group_by, key in (("op", lambda r: r.op), ("module", lambda r: r.module)):
        rows = prof.summary(group_by)
        assert sum(row.calls for row in rows) == len(prof.records)
        for field in ("forward_s", "backward_s", "output_bytes", "saved_bytes"):
            assert math.isclose(
                sum(getattr(row, field) for row in rows),
                sum(getattr(r, field) for r in prof.records),
            )
        assert len(rows) == len({key(r) for r in prof.records})
    by_op = {row.name: row for row in prof.summary("op")}
    matmuls = [r for r in prof.records if r.op == "matmul"]
    assert by_op["matmul"].calls == len(matmuls) == 3
    assert by_op["matmul"].saved_bytes == sum(r.saved_bytes for r in matmuls)
    assert math.isclose(by_op["matmul"].backward_s, sum(r.backward_s for r in matmuls))
    by_module = {row.name: row for row in prof.summary("module")}
    assert by_module["0 (Conv2d)"].calls == sum(r.module == "0" for r in prof.records)
    assert by_module["(no module)"].calls == 4  # cross_entropy: log_softmax, getitem, neg, mean


def test_table_rows_are_sorted_limited_and_totalled(rng):
    prof = _profiled_step(rng)[0]
    header, *rows, total = _rows(prof.table())
    assert header == ["op", *COLUMNS]
    expected = sorted(prof.summary("op"), key=lambda r: -r.total_s)
    assert [row[0] for row in rows] == [r.name for r in expected]
    assert total[0] == "total" and int(total[1]) == len(prof.records) and total[5] == "100.0%"
    shares = sum(float(row[5].rstrip("%")) for row in rows)
    assert abs(shares - 100) < 0.1 * len(rows)  # each share is rounded to 0.1%

    calls = [int(row[1]) for row in _rows(prof.table(sort_by="calls"))[1:-1]]
    assert calls == sorted(calls, reverse=True)
    names = [row[0] for row in _rows(prof.table(sort_by="name"))[1:-1]]
    assert names == sorted(names)
    header, *rows, total = _rows(prof.table(sort_by="saved", group_by="module", top=3))
    assert header[0] == "module" and len(rows) == 3
    assert [row[0] for row in rows] == [
        r.name for r in sorted(prof.summary("module"), key=lambda r: -r.saved_bytes)[:3]
    ]
    assert int(total[1]) == len(prof.records)  # the total counts the rows left out too


def test_table_refuses_unknown_arguments_by_name():
    prof = tc.profile()
    with pytest.raises(ValueError, match="profile.table: sort_by must be one of total"):
        prof.table(sort_by="time")
    with pytest.raises(ValueError, match="profile.summary: group_by must be 'op' or 'module'"):
        prof.table(group_by="layer")
    with pytest.raises(ValueError, match="profile.table: top must be a positive int"):
        prof.table(top=0)
    assert _rows(prof.table())[-1][:2] == ["total", "0"]  # an empty profile still prints


def test_a_profile_records_only_its_own_thread(rng):
    x = tc.Tensor(rng.random(3), requires_grad=True)
    inside = threading.Event()
    done = threading.Event()
    theirs = {}

    def other_thread():
        inside.wait()
        (x.exp() * 2).sum().backward()  # while the main thread's profile runs
        with tc.profile() as own:
            x.tanh().sum().backward()
        theirs["ops"] = [r.op for r in own.records]
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with tc.profile() as prof:
        inside.set()
        done.wait()
        (x + 1).sum().backward()
    worker.join()
    assert [r.op for r in prof.records] == ["add", "sum"]
    assert [[r.op for r in order] for order in prof.backward_order] == [["sum", "add"]]
    assert theirs["ops"] == ["tanh", "sum"]
    assert function.profiling == 0  # ops test this global before reading their thread's modes


def test_profiles_nest_and_stop_in_order():
    x = tc.Tensor(np.ones(3), requires_grad=True)
    with tc.profile() as outer:
        y = x * 2
        with tc.profile() as inner:
            z = y.exp()
            with pytest.raises(RuntimeError, match="a profile started inside this one"):
                outer.stop()
        z.sum().backward()
    assert [r.op for r in inner.records] == ["exp"]
    assert [r.op for r in outer.records] == ["mul", "exp", "sum"]
    assert inner.records[0] is outer.records[1]  # one record, seen by both
    assert inner.records[0].backward_calls == 1  # its backward ran after the inner one ended
    assert inner.backward_order == [] and len(outer.backward_order) == 1
    assert function._mode.profiler is None
    with pytest.raises(RuntimeError, match="not running"):
        outer.stop()


def test_a_profile_started_after_a_forward_in_an_outer_one_gets_its_own_backward_records():
    x = tc.Tensor(np.ones(3), requires_grad=True)
    with tc.profile() as outer:
        y = (x * 2).sum()
        with tc.profile() as inner:
            y.backward()
    assert [(r.op, r.calls, r.backward_calls) for r in outer.records] == [
        ("mul", 1, 1),
        ("sum", 1, 1),
    ]
    assert [(r.op, r.calls, r.backward_calls) for r in inner.records] == [
        ("sum", 0, 1),
        ("mul", 0, 1),
    ]
    assert [r.op for r in outer.backward_order[0]] == [r.op for r in inner.backward_order[0]]
    assert outer.backward_order[0][0] is outer.node_record(y._ctx)
    assert inner.backward_order[0][0] is inner.node_record(y._ctx) is not outer.records[1]
    assert inner.records[0].backward_s == outer.records[1].backward_s  # the same pass, timed once


def test_an_exception_in_the_block_stops_the_profile():
    with pytest.raises(ZeroDivisionError), tc.profile() as prof:
        tc.Tensor(np.ones(2)).exp()
        raise ZeroDivisionError
    assert not prof.running and function._mode.profiler is None and function.profiling == 0


class _Fragile(tc.Function, register=False):
    """The identity, whose forward raises on a negative input and whose backward raises on a NaN
    gradient: an op failing inside a profile."""

    name = "fragile"

    @staticmethod
    def forward(ctx, x):
        if (x < 0).any():
            raise ArithmeticError("fragile: negative input")
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        if np.isnan(grad).any():
            raise ArithmeticError("fragile: NaN gradient")
        return grad


def _nothing_left_running():
    return function._mode.profiler is None and function.profiling == 0


def test_an_op_raising_in_forward_or_backward_leaves_no_profile_running():
    x = tc.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ArithmeticError, match="negative input"), tc.profile() as prof:
        x.exp()
        _Fragile.apply(-x)
    assert not prof.running and _nothing_left_running()
    assert [r.op for r in prof.records] == ["exp", "neg"]  # the failed application is not one
    y = _Fragile.apply(x) * float("nan")
    with pytest.raises(ArithmeticError, match="NaN gradient"), tc.profile() as prof:
        y.sum().backward()
    assert not prof.running and _nothing_left_running()
    assert [r.op for r in prof.records] == ["sum", "mul", "fragile"]  # backward-only records
    assert [r.op for r in prof.backward_order[0]] == ["sum", "mul"]  # the rule that raised: not
    assert prof.records[-1].backward_calls == 0
    (x * 2).sum().backward()  # and later ops record nowhere
    assert len(prof.records) == 3


def test_a_profile_started_in_a_with_block_and_left_running_stops_with_the_block():
    x = tc.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(KeyError), tc.profile() as outer:  # the block's own error comes out
        inner = tc.profile().start()
        x.exp()
        raise KeyError  # before inner.stop()
    assert not outer.running and not inner.running and _nothing_left_running()
    assert inner.records[0] is outer.records[0]
    with pytest.raises(RuntimeError, match="1 profile.s. started inside this `with` block"):
        with tc.profile() as outer:
            tc.profile().start()
    assert not outer.running and _nothing_left_running()


def test_a_backward_after_the_profile_ended_is_not_timed_into_it():
    x = tc.Tensor(np.ones(2), requires_grad=True)
    with tc.profile() as prof:
        y = (x * 3).sum()
    y.backward()
    assert [(r.op, r.calls, r.backward_calls, r.backward_s) for r in prof.records] == [
        ("mul", 1, 0, 0.0),
        ("sum", 1, 0, 0.0),
    ]
    assert prof.backward_order == [] and _nothing_left_running()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_backward_of_a_graph_made_before_the_profile_gets_backward_only_records():
    x = tc.Tensor(np.ones(3), requires_grad=True)
    y = (x * x).sum()
    mul = y._ctx.parents[0]._ctx
    saved, out_bytes = sum(a.nbytes for a in mul.saved_tensors), y._ctx.parents[0].data.nbytes
    with tc.profile() as prof:
        y.backward()
    assert [(r.op, r.calls, r.forward_s, r.backward_calls) for r in prof.records] == [
        ("sum", 0, 0.0, 1),
        ("mul", 0, 0.0, 1),
    ]
    assert prof.node_record(y._ctx) is prof.records[0]
    assert prof.node_record(mul) is prof.records[1]
    assert prof.records[1].saved_bytes == saved > 0 and prof.records[1].output_bytes == out_bytes
    assert sum(row.calls for row in prof.summary()) == 0


def test_create_graph_rules_record_their_own_ops(rng):
    x = tc.Tensor(rng.random(3), requires_grad=True)
    with tc.profile() as prof:
        y = (x * x).sum()
        (g,) = tc.grad(y, [x], create_graph=True)
    # the rules built the gradient from Tensor ops, each recorded as an application
    assert len(prof.records) > 2 and prof.records[0].op == "mul"
    assert len(prof.backward_order) == 1 and [r.op for r in prof.backward_order[0]] == [
        "sum",
        "mul",
    ]
    assert all(r.forward_s >= 0 and r.backward_s >= 0 for r in prof.records)
    assert g.requires_grad


def test_no_profile_records_nothing_and_a_profile_keeps_no_graph_alive(rng):
    model = lenet()
    images, labels = _batch(rng)
    with tc.profile() as prof:
        loss = F.cross_entropy(model(images), labels)
        node = weakref.ref(loss._ctx)
        first_conv = weakref.ref(collect([loss]).ops[1])
        loss.backward()
        del loss
        gc.collect()
        assert node() is None and first_conv() is None  # freed while the profile runs
    counted = len(prof.records)
    assert all(r.node is None for r in prof.records)
    loss = F.cross_entropy(model(images), labels)  # no profile running
    loss.backward()
    assert len(prof.records) == counted and function._mode.profiler is None
    gone = weakref.ref(model)
    del model, loss
    gc.collect()
    assert gone() is None  # the stopped profile holds no module


def test_a_profile_can_be_restarted_and_adds_to_its_records():
    x = tc.Tensor(np.ones(2), requires_grad=True)
    prof = tc.profile()
    assert prof.start() is prof and prof.running
    with pytest.raises(RuntimeError, match="already running"):
        prof.start()
    x.exp()
    prof.stop()
    x.exp()
    with prof:
        x.log()
    assert [r.op for r in prof.records] == ["exp", "log"]


def test_cli_train_profile_prints_the_first_epochs_table(tmp_path, capsys):
    argv = [
        "train",
        "--epochs",
        "2",
        "--width",
        "4",
        "--quiet",
        "--profile",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("profile of epoch 1's training:") == 1
    table = out.split("profile of epoch 1's training:\n")[1].split("\ntest accuracy")[0]
    header, *rows, total = _rows(table)
    assert header == ["op", *COLUMNS]
    assert {"im2col", "matmul", "window_max", "log_softmax"} <= {row[0] for row in rows}
    batches = math.ceil(len(load_digits()[0].labels) / 32)  # the default batch size
    assert int(next(row for row in rows if row[0] == "log_softmax")[1]) == batches
    assert total[0] == "total" and function._mode.profiler is None


def _seconds(text: str) -> float:
    value, unit = text.split()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def test_the_graphs_doc_shows_a_profile_table_of_the_digits_epoch():
    """docs/graphs.md's block from tools/render_docs_profile.py: two tables of the same epoch
    (by op, by module), rows sorted by total time and summing to the total, registered op
    names, and a sentence naming the first row. Only the structure: the times vary."""
    root = Path(__file__).resolve().parents[1]
    tool = load_tool("render_docs_profile")
    block = (root / "docs" / "graphs.md").read_text().split(tool.BEGIN)[1].split(tool.END)[0]
    by_op, by_module = (_rows(t) for t in re.findall(r"```text\n(.*?)\n```", block, re.S))
    assert by_op[0] == ["op", *COLUMNS] and by_module[0] == ["module", *COLUMNS]
    assert by_op[-1][0] == by_module[-1][0] == "total" and by_op[-1][1:] == by_module[-1][1:]
    ops = [row[0] for row in by_op[1:-1]]
    assert set(ops) <= set(tc.list_ops()) and {"im2col", "matmul", "window_max"} <= set(ops)
    assert all(re.fullmatch(r"\d+ \(\w+\)|\(no module\)", row[0]) for row in by_module[1:-1])
    for table in (by_op, by_module):
        rows = table[1:-1]
        totals = [_seconds(row[4]) for row in rows]
        assert totals == sorted(totals, reverse=True)
        assert sum(int(row[1]) for row in rows) == int(table[-1][1])
    first = by_op[1]
    assert f"`{first[0]}` takes the most time: {first[5]} of the total" in " ".join(block.split())
