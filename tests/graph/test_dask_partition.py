"""Cutting graphs into parts and running a part, without a cluster.

The properties that make the cut safe: every task is in exactly one part, parts
come in an order where each part's inputs were made by an earlier part (or are
held by the client), so no two parts wait on each other; and running the parts
in that order gives dask's own answers.
"""

import operator

import dask
import dask.array as da
import pytest
from dask import delayed
from dask._task_spec import Task, TaskRef
from dask.base import collections_to_expr

from rayexec.errors import RemoteFailure
from rayexec.graph import pickling as graph_pickle
from rayexec.graph.execute import run_part
from rayexec.graph.normalize import normalize
from rayexec.graph.partition import PARTS_PER_CPU, partition, postorder


def _expr(collection):
    from dask._expr import FinalizeCompute

    expr = FinalizeCompute(collections_to_expr([collection])).optimize()
    return expr, list(dask.core.flatten(expr.__dask_keys__()))


def _tree(leaves):
    level = [delayed(operator.neg)(i) for i in range(leaves)]
    while len(level) > 1:
        level = [delayed(operator.add)(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def _run_in_order(parts, held_values=None):
    """Run parts one after another as the cluster would; every requested value by key."""
    values = dict(held_values or {})
    bundles = {}
    for part in parts:
        blob, found = graph_pickle.dumps(part.nodes, type(None))
        assert found == []
        out = run_part(blob, part.inputs, len(part.receives), part.outputs,
                       [keys for _, keys in part.sends], part.retries,
                       *[values[k] for k in part.inputs],
                       *[bundles.pop((id(sender), id(part))) for sender in part.receives])
        values.update(zip(part.outputs, out, strict=False))
        for (receiver, _), bundle in zip(part.sends, out[len(part.outputs):-1], strict=True):
            bundles[(id(part), id(receiver))] = bundle
    assert not bundles, "a bundle no part read"
    return values


def _check_dag(parts, graph, held=()):
    made = set(held)
    launched = set()
    seen = []
    for part in parts:
        assert set(part.inputs) <= made, "a part reads a value no earlier part makes"
        assert all(id(sender) in launched for sender in part.receives), \
            "a part reads a bundle from a later part"
        made.update(part.outputs)
        launched.add(id(part))
        seen.extend(node.key for node in part.nodes)
    assert len(seen) == len(set(seen)), "a task is in two parts"
    return set(seen)


@pytest.mark.parametrize("ncpus", [1, 2, 8])
def test_transpose_graph_cuts_into_a_dag_and_matches_dask(ncpus):
    # x + x.T makes block (i, j) read blocks (i, j) and (j, i): parts made of runs
    # of the order depend on each other both ways, which ranks must untangle.
    x = da.random.default_rng(1).random((60, 60), chunks=(10, 10))
    expr, keys = _expr((x + x.T).mean())
    graph = normalize(expr)
    parts = partition(graph, keys, held=set(), ncpus=ncpus)
    assert _check_dag(parts, graph) == set(graph.nodes)
    assert len(parts) >= PARTS_PER_CPU * ncpus // 2
    values = _run_in_order(parts)
    assert values[keys[0]] == pytest.approx((x + x.T).mean().compute(scheduler="sync"))


def test_tree_parts_are_independent_subtrees():
    expr, keys = _expr(_tree(256))
    graph = normalize(expr)
    parts = partition(graph, keys, held=set(), ncpus=2)
    _check_dag(parts, graph)
    big = [p for p in parts if len(p.nodes) > 16]
    # the big parts (subtrees) need nothing from each other: they all run at once
    assert len(big) >= 4 and all(not p.inputs and not p.receives for p in big)
    assert _run_in_order(parts)[keys[0]] == -sum(range(256))


def test_held_keys_are_inputs_not_tasks():
    graph = normalize({"x": (operator.neg, 1), "y": (operator.add, "x", 10)})
    parts = partition(graph, ["y"], held={"x"}, ncpus=1)
    assert [[n.key for n in p.nodes] for p in parts] == [["y"]]
    assert parts[0].inputs == ["x"]
    assert _run_in_order(parts, {"x": 5})["y"] == 15


def test_unknown_dependency_is_a_clear_error():
    graph = normalize({"y": Task("y", operator.add, TaskRef("missing"), 10),
                       "z": (operator.neg, "y")})
    with pytest.raises(KeyError, match="missing"):
        partition(graph, ["z"], held=set(), ncpus=1)


def test_tasks_with_other_placement_get_their_own_parts():
    with dask.annotate(resources={"special": 1}):
        a = delayed(operator.neg)(1, dask_key_name="a")
    b = delayed(operator.add)(a, 1, dask_key_name="b")
    c = delayed(operator.add)(b, a, dask_key_name="c")
    expr, keys = _expr(c)
    parts = partition(normalize(expr), keys, held=set(), ncpus=1)
    for part in parts:
        names = {n.key for n in part.nodes}
        if "a" in names:
            assert names == {"a"} and part.placement == {"resources": {"special": 1}}
        else:
            assert part.placement == {}
    assert _run_in_order(parts)[keys[0]] == -1


def test_a_failing_task_fails_its_dependents_not_its_siblings():
    graph = normalize({"bad": (operator.truediv, 1, 0), "after": (operator.neg, "bad"),
                       "fine": (operator.neg, 3)})
    nodes = [graph.nodes[k] for k in postorder(graph.nodes, ["after", "fine"], set())]
    blob, _ = graph_pickle.dumps(nodes, type(None))
    after, fine, receipt = run_part(blob, [], 0, ["after", "fine"], [], {})
    assert type(after) is RemoteFailure and isinstance(after.exception, ZeroDivisionError)
    assert fine == -3
    assert receipt[0] is after and receipt[1] == "int"


def test_failed_inputs_propagate_into_the_next_part():
    graph = normalize({"y": Task("y", operator.neg, TaskRef("x"))})
    (part,) = partition(graph, ["y"], held={"x"}, ncpus=1)
    failure = RemoteFailure(ValueError("upstream"))
    blob, _ = graph_pickle.dumps(part.nodes, type(None))
    y, receipt = run_part(blob, ["x"], 0, ["y"], [], {}, failure)
    assert y is failure and receipt == [failure]


def test_retries_rerun_a_task_inside_its_part():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OSError("not yet")
        return "ok"

    graph = normalize({"f": (flaky,)})
    (part,) = partition(graph, ["f"], held=set(), ncpus=1, defaults={"retries": 2})
    assert part.retries == {"f": 2}
    blob, _ = graph_pickle.dumps(part.nodes, type(None))
    assert run_part(blob, [], 0, ["f"], [], part.retries) == ("ok", ["str"])


def test_failures_travel_in_bundles_between_parts():
    dsk = {("x", i): (operator.truediv, 1, i) for i in range(8)}  # ("x", 0) fails
    dsk["total"] = (sum, [("x", i) for i in range(8)])
    dsk["fine"] = (operator.neg, ("x", 7))
    parts = partition(normalize(dsk), ["total", "fine"], held=set(), ncpus=1)
    assert any(part.sends for part in parts)
    values = _run_in_order(parts)
    assert isinstance(values["total"], RemoteFailure)
    assert isinstance(values["total"].exception, ZeroDivisionError)
    assert values["fine"] == -1 / 7
