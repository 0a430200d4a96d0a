"""rayexec.utils_test: distributed's test helpers, on the session's Ray cluster here
(it attaches to a Ray already running in the process) and, in a subprocess, on a
test cluster of its own that it starts and reshapes."""

import asyncio
import inspect
import os

import pytest
from conftest import run_script

import rayexec
from rayexec import Client
from rayexec.asynchronous import sync
from rayexec.utils_test import (
    cluster,
    gen_cluster,
    gen_test,
    inc,
    loop,  # noqa: F401  (a fixture)
    slowinc,
)

COMPAT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "compat")


def node_id(_=None):
    import ray

    return ray.get_runtime_context().get_node_id()


@gen_cluster(client=True, nthreads=[("127.0.0.1", 1)] * 2)
async def test_gen_cluster_gives_an_async_client_and_the_workers(c, s, a, b, ray_cluster):
    assert isinstance(c, Client) and c.asynchronous and c.status == "running"
    assert s.address == "tcp://" + ray_cluster.address
    assert set(s.workers) == {a.address, b.address} and a.address != b.address
    assert set(c.nthreads()) >= {a.address, b.address}
    assert await c.submit(inc, 1) == 2
    # the worker addresses are the ones submit(workers=...) takes
    assert await c.submit(node_id, 1, workers=[a.address]) == a.node_id
    assert await c.submit(node_id, 2, workers=[b.address]) == b.node_id
    assert rayexec.default_client() is c


@gen_cluster()
async def test_gen_cluster_without_client(s, a, b, ray_cluster):
    assert s.address.startswith("tcp://") and a.nthreads >= 1 and b.nthreads >= 1


@pytest.mark.parametrize("x", [1, 2])
@gen_cluster(client=True)
async def test_gen_cluster_passes_parameters_and_fixtures(c, s, a, b, x, ray_cluster):
    assert await c.submit(slowinc, x, delay=0.01) == x + 1


@pytest.mark.parametrize("x", [3])
@gen_cluster(client=True)
async def test_gen_cluster_gives_starred_workers(c, s, *workers, x, ray_cluster):
    assert len(workers) == 2 and await c.submit(inc, x) == x + 1


def test_gen_cluster_hides_its_own_arguments_from_pytest():
    async def body(c, s, a, b, x, ray_cluster):
        pass

    assert list(inspect.signature(gen_cluster(client=True)(body)).parameters) == \
        ["x", "ray_cluster"]
    assert list(inspect.signature(gen_cluster()(lambda_s_a_b)).parameters) == []


async def lambda_s_a_b(s, a, b):
    pass


def test_gen_cluster_refuses_plain_functions():
    with pytest.raises(RuntimeError, match="coroutine"):
        gen_cluster()(lambda s, a, b: None)


def test_gen_cluster_times_out(ray_cluster):
    @gen_cluster(client=True, timeout=0.5)
    async def too_slow(c, s, a, b):
        await asyncio.sleep(30)

    with pytest.raises(asyncio.TimeoutError, match="0.5"):
        too_slow()
    # and the client it made is closed again
    with pytest.raises(ValueError):
        rayexec.default_client()


def test_gen_cluster_closes_its_client(ray_cluster):
    made = []

    @gen_cluster(client=True)
    async def keep(c, s, a, b):
        made.append(c)

    keep()
    assert made[0].status == "closed"


def test_gen_test_runs_a_coroutine_with_a_timeout():
    @gen_test(timeout=5)
    async def quick():
        await asyncio.sleep(0)
        return 7

    assert quick() == 7

    @gen_test(timeout=0.2)
    async def slow():
        await asyncio.sleep(10)

    with pytest.raises(asyncio.TimeoutError):
        slow()


def test_cluster_yields_addresses_and_closes_leftover_clients(ray_cluster):
    with cluster() as (s, [a, b]):
        assert s["address"] == "tcp://" + ray_cluster.address
        assert a["address"] != b["address"]
        client = Client(s["address"])
        assert client.submit(inc, 41).result() == 42
    assert client.status == "closed"


def test_loop_fixture_runs_a_loop_on_another_thread(loop, ray_cluster):  # noqa: F811
    with cluster() as (s, _):
        with Client(s["address"], loop=loop) as client:
            assert client.loop is loop

            async def add_remote():
                return await client.gather(client.submit(inc, 1), asynchronous=True) + 1

            assert sync(loop, add_remote) == 3


def test_shim_serves_utils_test():
    done = run_script("stream_utils_shapes.py", env={"PYTHONPATH": COMPAT}, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "shapes ok" in done.stdout



_MEMORY_PROGRAM = """
from rayexec import Client
from rayexec.utils_test import cluster

with cluster(nworkers=2, worker_kwargs={"memory_limit": "1 GiB"}) as (s, [a, b]):
    with Client(s["address"]) as c:
        info = c.scheduler_info()["workers"]
        print(sorted(info[w["address"]]["memory_limit"] for w in (a, b)))
"""


def run_program(program: str):
    """Run ``program`` in a fresh process, where the test cluster is utils_test's
    own, not the session's; its CompletedProcess, checked to have succeeded."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_cluster_gives_workers_the_memory_asked_for():
    out = run_program(_MEMORY_PROGRAM)
    assert out.stdout.strip().splitlines()[-1] == str([2**30, 2**30])


_PRELOAD_PROGRAM = """
import os, sys, tempfile
from rayexec import Client
from rayexec.utils_test import cluster

folder = tempfile.mkdtemp()
with open(os.path.join(folder, "where_preloaded.py"), "w") as f:
    f.write("seen = {}\\ndef dask_setup(worker):\\n    seen['address'] = worker.address\\n")
sys.path.insert(0, folder)  # as distributed's workers inherit the test's sys.path

def preloaded():
    import where_preloaded
    return where_preloaded.seen["address"]

for preload in ([os.path.join(folder, "where_preloaded.py")], ["where_preloaded"]):
    with cluster(worker_kwargs={"preload": preload}) as (s, workers):
        with Client(s["address"]) as c:
            print(c.run(preloaded) == {w["address"]: w["address"] for w in workers})
"""


def test_cluster_gives_workers_their_preloads():
    out = run_program(_PRELOAD_PROGRAM)
    assert out.stdout.strip().splitlines()[-2:] == ["True", "True"], out.stdout


_GIVE_WAY_PROGRAM = """
from rayexec import Client, LocalCluster
from rayexec.utils_test import cluster

with cluster(nworkers=1) as (s, [a]):
    first = s["address"]
# A cluster the test starts itself.  It runs in token mode, which the process
# must then present although it connected without tokens before.
other = LocalCluster(n_workers=1, dashboard_address=None)
try:
    with Client(other) as c:  # the test cluster gives way: no client uses it
        print("other", c.submit(sum, [1, 2]).result())
        try:  # while a client of the other cluster is open, no switching back
            Client(first)
        except RuntimeError as exc:
            print("refused", "while a client of that cluster is open" in str(exc))
finally:
    other.close()
with cluster(nworkers=1) as (s, [a]):  # and it connects again when asked for
    with Client(s["address"]) as c:
        print("back", s["address"] == first, c.submit(sum, [3, 4]).result())
"""


def test_the_test_cluster_gives_way_to_a_cluster_a_test_starts():
    """distributed's tests start clusters of their own (``dask scheduler`` in a
    subprocess); Ray connects a process to one cluster at a time."""
    out = run_program(_GIVE_WAY_PROGRAM)
    lines = out.stdout.strip().splitlines()
    assert lines[-3:] == ["other 3", "refused True", "back True 7"], out.stdout


_TERMINATE_PROGRAM = """
from rayexec import Client
from rayexec.utils_test import cluster, inc, poll_for

with cluster() as (s, [a, b]), Client(s["address"]) as client:
    futures = client.map(inc, range(10))
    print("computed", client.gather(futures) == list(range(1, 11)))
    process = a["proc"]()
    print("pid", process.pid > 0)
    process.terminate()
    print("ended", a["proc"]() is None)  # as distributed's weak reference to it
    poll_for(lambda: set(client.nthreads()) == {b["address"]}, timeout=60)
    # computed results are not lost with the worker, and work goes on elsewhere
    print("after", client.submit(sum, futures).result(), client.gather(futures)[-1])
with cluster() as (s, [a, b]), Client(s["address"]) as client:
    print("again", len(client.nthreads()), a["proc"]() is not None)
"""


def test_a_worker_of_cluster_ends_as_its_process_is_terminated_and_work_goes_on():
    """distributed's ``cluster()`` gives each worker's process: tests of faults end it."""
    lines = run_program(_TERMINATE_PROGRAM).stdout.strip().splitlines()
    assert lines[-5:] == ["computed True", "pid True", "ended True", "after 55 10",
                          "again 2 True"], lines


def test_nodebug_module_setup_turns_asyncio_debug_off_for_the_module(monkeypatch):
    import types

    from rayexec.utils_test import nodebug_setup_module, nodebug_teardown_module

    monkeypatch.setenv("PYTHONASYNCIODEBUG", "1")
    module = types.ModuleType("a_timing_sensitive_test_module")
    nodebug_setup_module(module)
    assert "PYTHONASYNCIODEBUG" not in os.environ
    nodebug_teardown_module(module)
    assert os.environ["PYTHONASYNCIODEBUG"] == "1"


_READY_PROGRAM = """
import os, time
import psutil
from rayexec import Client
from rayexec.utils_test import _until_running_tasks, cluster

def pid(_):
    return os.getpid()

with cluster() as (s, workers):
    handed_out = time.time()
    with Client(s["address"]) as c:
        pids = [c.submit(pid, i, workers=[w["address"]], pure=False).result()
                for i, w in enumerate(workers)]
        print("up before", all(psutil.Process(p).create_time() < handed_out for p in pids))

class GoneNode:
    node_id = "ab" * 28
    def get_logs_dir_path(self):
        return "/logs/of/the/node"

try:
    _until_running_tasks([GoneNode()])
except RuntimeError as exc:
    print(str(exc))
"""


def test_cluster_hands_out_workers_whose_processes_run_tasks():
    """distributed's ``cluster()`` gives workers whose processes are up; a Ray node
    starts its worker processes after it registers (seconds, on a busy machine),
    so the test cluster waits until each new node has run a task, and a node that
    cannot says so in one line naming its logs."""
    lines = run_program(_READY_PROGRAM).stdout.strip().splitlines()
    assert "up before True" in lines, lines
    error = next(line for line in lines if line.startswith("the test cluster's worker node"))
    assert "ab" * 28 in error and "could not run a task" in error, error
    assert error.endswith("its logs: /logs/of/the/node"), error


_RESHAPE_PROGRAM = """
import ray
from rayexec.utils_test import cluster, gen_cluster

@gen_cluster(nthreads=[("127.0.0.1", 1)] * 2)
async def two_single(s, a, b):
    print("single", sorted([a.address, b.address]))

@gen_cluster(nthreads=[("127.0.0.1", 1), ("127.0.0.1", 2)])
async def single_and_double(s, a, b):
    pass

two_single()
with cluster() as (s, workers):
    print("cluster", sorted(w["address"] for w in workers))
single_and_double()
with cluster() as (s, workers):
    alive = [n for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU")]
    print("alive", len(alive) == len(workers) == 2)
"""


def test_the_test_cluster_keeps_nodes_of_the_same_shape_and_waits_out_those_it_removes():
    """gen_cluster and cluster() of the same threads share their nodes; a node
    removed for another shape is dead to Ray before the next test's tasks go out
    (else, on a busy machine, they may be sent to it and fail)."""
    lines = run_program(_RESHAPE_PROGRAM).stdout.strip().splitlines()
    single = next(line for line in lines if line.startswith("single"))
    assert single.replace("single", "cluster") in lines, lines
    assert "alive True" in lines, lines
