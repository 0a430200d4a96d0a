"""Client.get on raw dask graphs: both task formats, key nesting, futures as data, errors."""

import operator
import traceback

import pytest
from dask._task_spec import Alias, DataNode, Dict, List, Task, TaskRef
from dask.highlevelgraph import HighLevelGraph

from rayexec import Future


def inc(x):
    return x + 1


def boom(x):
    raise ZeroDivisionError(f"boom {x}")


def test_legacy_tuples_with_lists_of_keys(client):
    dsk = {"x": 1, "y": (inc, "x"), "z": (sum, ["x", "y", 10]), "w": (operator.add, "z", "y")}
    assert client.get(dsk, "w") == 15
    assert client.get(dsk, ["x", "z"]) == [1, 13]


def test_nested_key_lists_keep_their_shape(client):
    dsk = {("a", i): (inc, i) for i in range(4)}
    result = client.get(dsk, [[("a", 0), ("a", 1)], [("a", 2)], ("a", 3)])
    assert result == [[1, 2], [3], 4]


def test_task_spec_graphs(client):
    dsk = {
        "x": DataNode("x", 1),
        "y": Task("y", inc, TaskRef("x")),
        "alias": Alias("alias", "y"),
        "both": Task("both", list, List(TaskRef("x"), TaskRef("alias"))),
        "named": Task("named", dict, Dict(a=TaskRef("x"), b=TaskRef("y"))),
    }
    assert client.get(dsk, ["both", "named", "alias"]) == [[1, 2], {"a": 1, "b": 2}, 2]


def test_high_level_graph(client):
    hlg = HighLevelGraph.from_collections("y", {"y": (inc, 41)}, dependencies=())
    assert client.get(hlg, "y") == 42


def test_many_tasks_across_parts(client):
    # more tasks than one part holds: values cross part boundaries as Ray objects
    dsk = {("x", i): (inc, i) for i in range(300)}
    dsk.update({("y", i): (operator.add, ("x", i), ("x", 299 - i)) for i in range(300)})
    dsk["total"] = (sum, [("y", i) for i in range(300)])
    assert client.get(dsk, "total") == sum((i + 1) + (300 - i) for i in range(300))


def test_futures_embedded_in_graphs_are_data(client):
    a = client.submit(inc, 1)
    b = client.scatter([10, 20])
    dsk = {"x": (operator.add, a, 100), "y": (sum, ["x", b[0], b[1]]), "a": a}
    assert client.get(dsk, ["x", "y", "a"]) == [102, 132, 2]


def test_graph_may_name_keys_the_client_holds(client):
    held = client.submit(inc, 1, key="held-key")
    dsk = {"y": Task("y", operator.mul, TaskRef("held-key"), 10)}
    assert client.get(dsk, "y") == 20
    assert held.result() == 2


def test_sync_false_returns_futures_in_shape(client):
    futures = client.get({"x": (inc, 1), "y": (inc, "x")}, [["x"], "y"], sync=False)
    assert isinstance(futures[0][0], Future) and isinstance(futures[1], Future)
    assert client.gather(futures) == [[2], 3]


def test_errors_keep_their_type_and_traceback(client):
    dsk = {"x": 1, "bad": (boom, "x"), "after": (inc, "bad")}
    with pytest.raises(ZeroDivisionError, match="boom 1"):
        client.get(dsk, "after")
    bad = client.get(dsk, "bad", sync=False)
    assert isinstance(bad.exception(), ZeroDivisionError)
    assert "raise ZeroDivisionError" in "".join(traceback.format_tb(bad.traceback()))


def test_a_failure_spares_independent_keys(client):
    dsk = {"bad": (boom, 1), "after": (inc, "bad"), "fine": (inc, 1)}
    after, fine = client.get(dsk, ["after", "fine"], sync=False)
    assert fine.result() == 2
    with pytest.raises(ZeroDivisionError):
        after.result()


def test_only_requested_keys_stay_on_the_cluster(client):
    dsk = {("x", i): (inc, i) for i in range(50)}
    dsk["total"] = (sum, [("x", i) for i in range(50)])
    total = client.get(dsk, "total", sync=False)
    assert total.result() == sum(range(1, 51))
    held = set(client._states.keys())
    assert "total" in held and not any(k in held for k in dsk if k != "total")


def test_unknown_key_is_an_error(client):
    with pytest.raises(KeyError, match="nothing"):
        client.get({"x": 1}, "nothing")


def test_unpicklable_graph_is_a_clear_error(client):
    import threading

    with pytest.raises(TypeError, match="cannot serialise"):
        client.get({"x": (id, threading.Lock())}, "x")
