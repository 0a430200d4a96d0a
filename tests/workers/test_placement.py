"""distributed's placement hints on the session's two Ray nodes (1 CPU each; the
second has ``special: 1``): pins, host names, several workers, soft pins,
resources, retries, data locality, and requests no node can satisfy."""

import socket
import time

import dask.config
import numpy as np
import pytest
from conftest import actor_node

import rayexec
from rayexec.workers import placement
from rayexec.workers.placement import PlacementError


def where(*_):
    return rayexec.get_worker().address


def big(seed, n=2_000_000):
    return np.full(n, seed, dtype=np.float64)


@pytest.fixture
def nodes(client):
    """(address of the ``special`` node, address of the plain one)."""
    info = client.scheduler_info()["workers"]
    special = [a for a, w in info.items() if w["resources"].get("special")][0]
    plain = [a for a in info if a != special][0]
    return special, plain


def test_pin_to_each_worker_by_any_name(client, nodes):
    ids = {a: w["id"] for a, w in client.scheduler_info()["workers"].items()}
    for address in nodes:
        bare = address[len("tcp://"):]
        for name in (address, [address], bare, (ids[address],), {address}):
            assert client.submit(where, name, workers=name, pure=False).result() == address


def test_several_workers_and_host_names(client, nodes):
    both = set(nodes)
    got = client.gather(client.map(where, range(6), workers=list(nodes), pure=False))
    assert set(got) <= both
    # every node here runs on this machine: its IP, its name and loopback name them all
    host = client.scheduler_info()["workers"][nodes[0]]["host"]
    for name in (host, "127.0.0.1", "localhost", socket.gethostname()):
        assert client.submit(where, name, workers=[name], pure=False).result() in both
    options = placement.task_options(workers=["localhost"])
    assert set(options["label_selector"]["ray.io/node-id"][3:-1].split(",")) == {
        w["id"] for w in client.scheduler_info()["workers"].values()}


def test_map_honours_pins(client, nodes):
    special, plain = nodes
    got = client.gather(client.map(where, range(20), workers=[plain]))
    assert got == [plain] * 20
    got = client.gather(client.map(where, range(4), workers=[special], batch_size=1))
    assert got == [special] * 4


def test_unknown_worker_is_refused_at_submit(client, nodes):
    with pytest.raises(PlacementError, match=r"unknown worker 'tcp://10.255.0.1:1'.*workers are"):
        client.submit(where, workers=["tcp://10.255.0.1:1"])
    with pytest.raises(PlacementError, match="unknown worker"):
        client.map(where, [1, 2], workers=["no-such-host.invalid"])
    with pytest.raises(TypeError, match="workers"):
        client.submit(where, workers=42)
    with pytest.raises(ValueError, match="allow_other_workers"):
        client.submit(where, allow_other_workers=True)


def test_allow_other_workers_makes_the_pin_soft(client, nodes):
    special, plain = nodes
    # unknown workers only: distributed runs the task anywhere
    assert client.submit(where, 1, workers=["tcp://10.255.0.1:1"],
                         allow_other_workers=True).result() in nodes
    # the pinned node lacks the resource: a soft pin goes where it is
    assert client.submit(where, 2, workers=[plain], resources={"special": 1},
                         allow_other_workers=True).result() == special
    assert client.submit(where, 3, workers=[plain], allow_other_workers=True).result() == plain
    options = placement.task_options(workers=list(nodes), allow_other_workers=True)
    assert options["fallback_strategy"]


class Located:
    def where(self):
        return rayexec.get_worker().address


def test_actors_honour_soft_pins(client, nodes):
    for address in nodes:
        actors = [client.submit(Located, actor=True, workers=[address], allow_other_workers=True,
                                pure=False).result(timeout=60) for _ in range(4)]
        assert [a.where().result(timeout=60) for a in actors] == [address] * 4


def test_actors_asking_for_nothing_honour_head_pins(client):
    import ray

    head = [w.node_id for w in placement.alive_workers() if w.is_head][0]
    options = placement.head_options()
    on = [ray.remote(Located).options(num_cpus=0, **options).remote() for _ in range(6)]
    assert {actor_node(a) for a in on} == {head}


def test_resources(client, nodes):
    special, plain = nodes
    assert client.gather(client.map(where, range(3), resources={"special": 1})) == [special] * 3
    assert client.submit(where, resources={"CPU": 1}).result() in nodes
    assert placement.resource_options({"GPU": 1}) == {"num_gpus": 1}


@pytest.mark.parametrize("hints, message", [
    ({"resources": {"GPU": 1}}, "no worker has [^;]*GPU 1"),
    ({"resources": {"CPU": 2}}, "no worker has [^;]*CPU 2"),  # the cluster has 2 CPUs, but no node has 2
    ({"resources": {"special": 1}, "workers": "PLAIN"}, "chosen workers"),
    ({"resources": {"nonexistent": 1}}, "nonexistent"),
])
def test_requests_no_node_can_satisfy_are_refused(client, nodes, hints, message):
    if hints.get("workers") == "PLAIN":
        hints = {**hints, "workers": [nodes[1]]}
    with pytest.raises(PlacementError, match=message):
        client.submit(where, **hints)
    with pytest.raises(PlacementError, match=message):
        client.map(where, [1, 2, 3], **hints)
    with pytest.raises(ValueError, match="non-negative"):
        client.submit(where, resources={"special": -1})


def flaky(path, failures):
    """Fails ``failures`` times (counted in a file), then returns the attempt number."""
    with open(path, "a+") as f:
        f.seek(0)
        attempt = len(f.read())
        f.write("x")
    if attempt < failures:
        raise RuntimeError(f"attempt {attempt} failed")
    return attempt


def test_retries_cover_application_errors(client, tmp_path):
    assert client.submit(flaky, str(tmp_path / "a"), 2, retries=2).result() == 2
    with pytest.raises(RuntimeError, match="attempt 1 failed"):
        client.submit(flaky, str(tmp_path / "b"), 2, retries=1).result()
    with pytest.raises(RuntimeError, match="attempt 0 failed"):
        client.submit(flaky, str(tmp_path / "c"), 1).result()
    # map, batched or not, retries each element
    got = client.gather(client.map(flaky, [str(tmp_path / f"m{i}") for i in range(4)],
                                   [1] * 4, retries=1, batch_size=2))
    assert got == [1] * 4
    with pytest.raises(ValueError, match="retries"):
        client.submit(flaky, str(tmp_path / "d"), 0, retries=-1)


def test_priority_is_accepted(client):
    futures = [client.submit(abs, -i, priority=p) for i, p in enumerate([10, -10, 0])]
    assert client.gather(futures) == [0, 1, 2]


def test_data_locality_without_hints(client, nodes):
    """With no hint, a task runs where its large input is (Ray's locality-aware leasing)."""
    for address in nodes:
        data = client.submit(big, 1.0, workers=[address], pure=False)
        rayexec.wait([data])
        assert client.who_has([data])[data.key] == [address]
        # One at a time: a busy node hands queued work to idle ones (as
        # distributed steals work), so locality shows on an idle cluster.
        for i in range(3):
            assert client.submit(where, data, i, pure=False).result() == address


def test_put_on_stores_the_value_on_the_chosen_worker(client, nodes):
    import ray

    for address in nodes:
        ref = placement.put_on(big(3), [address])
        ray.wait([ref], fetch_local=False)
        assert rayexec.workers.nodes.locations([ref]) == [[address]]
        assert float(ray.get(ref)[0]) == 3.0
    with pytest.raises(PlacementError, match="unknown worker"):
        placement.put_on(1, ["tcp://10.255.0.1:1"])


def test_worker_listing_is_cached_between_submits(client, nodes, monkeypatch):
    import ray

    calls = []
    real = ray.nodes
    monkeypatch.setattr(ray, "nodes", lambda: calls.append(1) or real())
    rayexec.workers.nodes.alive_workers(fresh=True)
    for _ in range(20):
        placement.task_options(workers=[nodes[0]], resources={"CPU": 1})
    assert len(calls) == 1


def rare_task(seconds):
    time.sleep(seconds)
    return rayexec.get_worker().address


def test_a_node_dying_after_submit_fails_its_pending_tasks(client, ray_cluster):
    """The only node with a resource goes away: the waiting tasks fail, they don't hang."""
    node = ray_cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20,
                                resources={"rare": 1})
    try:
        client.wait_for_workers(3, timeout=60)
        options = placement.task_options(resources={"rare": 1})
        running = client.submit(rare_task, 60, resources={"rare": 1}, pure=False)
        queued = client.submit(rare_task, 0, resources={"rare": 1}, pure=False)
        placement.guard([running._state, queued._state], options)
        time.sleep(2)  # let the first one start on the rare node
    finally:
        ray_cluster.remove_node(node)
    for future in (running, queued):
        assert isinstance(future.exception(timeout=60), PlacementError)
        assert "rare" in str(future.exception())
        assert future.status == "error"
    with pytest.raises(PlacementError, match="rare"):
        client.gather([running, queued])


def test_infeasible_timeout_moves_the_error_onto_the_future(client, nodes):
    with dask.config.set({"rayexec.infeasible-timeout": "1s"}):
        assert placement.infeasible_timeout() == 1
        options = placement.task_options(resources={"GPU": 1})  # no error at submit
        future = client.submit(where, resources={"GPU": 1})
        placement.guard([future._state], options)
        assert isinstance(future.exception(timeout=60), PlacementError)
        with pytest.raises(PlacementError, match="GPU"):
            client.gather(future)


def test_put_all_spreads_values_round_robin(client, nodes):
    import ray

    refs = placement.put_all([big(i) for i in range(4)], list(nodes))
    ray.wait(refs, num_returns=4, fetch_local=False)
    located = rayexec.workers.nodes.locations(refs)
    assert located[0] == located[2] and located[1] == located[3]
    assert {located[0][0], located[1][0]} == set(nodes)
    assert [float(v[0]) for v in ray.get(refs)] == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(PlacementError, match="unknown worker"):
        placement.put_all([1], ["tcp://10.255.0.1:1"])


def test_compute_and_persist_take_the_same_hints(client, nodes):
    import dask

    special, plain = nodes
    for address in nodes:
        assert client.compute(dask.delayed(where)(address), workers=[address]).result() == address
        persisted = client.persist(dask.delayed(where)(address, 1), workers=[address])
        assert persisted.compute() == address
    with dask.annotate(resources={"special": 1}):
        annotated = dask.delayed(where)(3)
    assert client.compute(annotated).result() == special
    assert client.compute(dask.delayed(where)(4), resources={"special": 1}).result() == special
    with pytest.raises(PlacementError, match="GPU"):
        client.compute(dask.delayed(where)(5), resources={"GPU": 1})


def test_scatter_to_chosen_workers(client, nodes):
    for i, address in enumerate(nodes):
        arrays = client.scatter([big(10 + i), big(20 + i)], workers=[address])
        rayexec.wait(arrays)
        assert client.who_has(arrays) == {f.key: [address] for f in arrays}
        # no hint: the work goes to the data
        assert client.submit(where, arrays[0], pure=False).result() == address
    one = client.scatter(big(30), workers=list(nodes))
    assert client.who_has([one])[one.key][0] in nodes
    with pytest.raises(PlacementError, match="unknown worker"):
        client.scatter(big(40), workers=["tcp://10.255.0.1:1"])
