"""Workers as distributed sees them, on the session's two Ray nodes (1 CPU each,
the second with ``special: 1``): introspection, who_has / has_what, run,
wait_for_workers and get_worker inside tasks."""

import inspect
import os
import re
import socket

import numpy as np
import pytest

import rayexec
from rayexec.workers import nodes as workers_module
from rayexec.workers.placement import PlacementError


def big(seed, n=2_000_000):
    return np.full(n, seed, dtype=np.float64)  # 16 MB: lives in a node's object store


def where(*_):
    return rayexec.get_worker().address


@pytest.fixture
def special(client):
    """The address of the node with the ``special`` resource, and of the other."""
    info = client.scheduler_info()["workers"]
    special = [a for a, w in info.items() if w["resources"].get("special")]
    plain = [a for a, w in info.items() if not w["resources"].get("special")]
    return special[0], plain[0]


def test_scheduler_info_describes_each_node(client, ray_cluster):
    info = client.scheduler_info()
    assert info["n_workers"] == 2
    assert info["total_threads"] == 2
    assert sorted(info["addresses"]) == sorted(info["workers"])
    assert info["resources"]["CPU"] == 2 and info["resources"]["special"] == 1
    node_ids = {n.node_id for n in ray_cluster.list_all_nodes()}
    for address, w in info["workers"].items():
        assert address.startswith("tcp://") and w["name"] == address
        assert w["id"] in node_ids
        assert w["nthreads"] == 1 and w["memory_limit"] > 0
    assert len(client.scheduler_info(n_workers=1)["workers"]) == 1


def test_repr_as_distributed_writes_it(client):
    # distributed: <Client: 'tcp://127.0.0.1:8786' processes=2 threads=2, memory=15.50 GiB>
    shown = re.fullmatch(r"<Client: '(tcp://[^']+)' processes=(\d+) threads=(\d+), "
                         r"memory=(\d+(\.\d+)? [KMGT]iB)>", repr(client))
    assert shown, repr(client)
    host, port = shown[1][len("tcp://"):].rsplit(":", 1)
    socket.create_connection((host, int(port)), timeout=30).close()  # it listens there
    assert (shown[2], shown[3]) == ("2", "2")


def test_memory_of_nodes_sharing_a_machine_is_counted_once(client):
    info = client.scheduler_info()
    assert len({w["host"] for w in info["workers"].values()}) == 1  # the session's cluster
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    largest = max(w["memory_limit"] for w in info["workers"].values())
    assert largest <= info["total_memory"] <= machine


def test_nthreads_and_ncores(client, special):
    assert client.nthreads() == {special[0]: 1, special[1]: 1}
    assert client.ncores(workers=[special[0]]) == {special[0]: 1}
    with pytest.raises(PlacementError, match="unknown worker"):
        client.nthreads(workers=["tcp://10.255.0.1:1"])


def test_addresses_are_stable(client):
    first = client.scheduler_info()["addresses"]
    assert client.scheduler_info()["addresses"] == first
    assert sorted(client.nthreads()) == sorted(first)


def test_get_worker_inside_tasks(client, special):
    for address in special:
        assert client.submit(where, address, workers=[address]).result() == address
    with pytest.raises(ValueError, match="No worker found"):
        rayexec.get_worker()


def test_who_has_reports_where_ray_keeps_the_data(client, special):
    on_special = client.submit(big, 1, workers=[special[0]])
    on_plain = client.submit(big, 2, workers=[special[1]])
    rayexec.wait([on_special, on_plain])
    who = client.who_has([on_special, on_plain])
    assert who == {on_special.key: [special[0]], on_plain.key: [special[1]]}
    assert client.who_has(on_special) == {on_special.key: [special[0]]}
    assert set(client.who_has()) >= {on_special.key, on_plain.key}
    has = client.has_what()
    assert on_special.key in has[special[0]] and on_special.key not in has[special[1]]
    assert on_plain.key in has[special[1]]
    assert client.has_what(workers=[special[1]]) == {special[1]: has[special[1]]}


def test_who_has_small_values_and_pending(client):
    import time

    small = client.submit(sum, [1, 2])
    small.result()
    # Ray keeps small values in the memory of the process that owns them.
    here = {w.address for w in workers_module.alive_workers()}
    assert set(client.who_has([small])[small.key]) <= here
    assert len(client.who_has([small])[small.key]) == 1
    slow = client.submit(time.sleep, 30, pure=False)
    assert client.who_has([slow]) == {slow.key: []}
    client.cancel(slow)


def test_run_once_per_worker(client, special):
    pids = client.run(os.getpid)
    assert set(pids) == set(special) and all(isinstance(p, int) for p in pids.values())
    assert client.run(where) == {a: a for a in special}
    assert client.run(lambda x, y=0: x + y, 1, y=2, workers=[special[1]]) == {special[1]: 3}
    assert client.run(lambda dask_worker: dask_worker.address) == {a: a for a in special}
    assert client.run(where, wait=False) is None


def test_run_is_not_blocked_by_busy_workers(client, special):
    import time

    busy = client.map(time.sleep, [20, 20], pure=False, batch_size=1)
    try:
        assert client.run(where) == {a: a for a in special}
    finally:
        client.cancel(busy, force=True)


def test_run_errors(client, special):
    def fail():
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        client.run(fail)
    returned = client.run(fail, on_error="return")
    assert set(returned) == set(special)
    assert all(isinstance(e, ZeroDivisionError) for e in returned.values())
    assert client.run(fail, on_error="ignore") == {}
    with pytest.raises(ValueError, match="on_error"):
        client.run(fail, on_error="skip")
    with pytest.raises(PlacementError, match="unknown worker"):
        client.run(os.getpid, workers=["tcp://10.255.0.1:1"])


def test_run_on_scheduler_runs_on_the_head(client, ray_cluster):
    head = [w for w in workers_module.alive_workers() if w.is_head][0]
    assert client.run_on_scheduler(where) == head.address
    with pytest.raises(NotImplementedError, match="dask_scheduler"):
        client.run_on_scheduler(lambda dask_scheduler: 1)


def test_wait_for_workers(client):
    client.wait_for_workers(2)
    client.wait_for_workers(1, timeout=5)
    with pytest.raises(TimeoutError, match="Only 2/3 workers arrived") as info:
        client.wait_for_workers(3, timeout=0.5)
    assert isinstance(info.value, workers_module.WorkerStartTimeoutError)
    with pytest.raises(ValueError, match="n_workers"):
        client.wait_for_workers(0)


def test_wait_for_workers_sees_a_new_node(client, ray_cluster):
    import threading

    outcome = []

    def wait():
        try:
            client.wait_for_workers(3, timeout=120)
            outcome.append("joined")
        except Exception as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    node = ray_cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20)
    try:
        waiter.join(150)
        assert outcome == ["joined"]
        assert client.scheduler_info()["n_workers"] == 3
    finally:
        ray_cluster.remove_node(node)
    client.wait_for_workers(2)


@pytest.mark.parametrize("name", ["nthreads", "ncores", "scheduler_info", "who_has",
                                  "has_what", "run", "wait_for_workers", "run_on_scheduler"])
def test_signatures_match_distributed(name):
    distributed = pytest.importorskip("distributed")
    ours = inspect.signature(getattr(rayexec.Client, name))
    theirs = inspect.signature(getattr(distributed.Client, name))
    assert list(ours.parameters) == list(theirs.parameters)
    for p in theirs.parameters.values():
        assert ours.parameters[p.name].default == p.default, p.name


def test_get_worker_is_exported():
    from rayexec.workers.context import get_worker

    assert rayexec.get_worker is get_worker
