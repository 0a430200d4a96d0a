"""Chaos soak: a mixed workload on a local multi-node Ray cluster while faults are injected.

    python benchmarks/soak.py --duration 600            # the full soak: 10 minutes
    python benchmarks/soak.py --duration 60 --json      # the short one the test suite runs

The cluster is this script's own: a head and ``--nodes - 1`` worker nodes, each a
``ray start`` process on loopback with free ports.  One thread runs the workload
in rounds -- futures (submit, map, gather, futures on futures), dask graphs
(array, dataframe shuffle, delayed), actors and the coordination primitives --
and checks every result against the same computation done locally.  A chaos
thread meanwhile SIGKILLs a random Ray worker process of this cluster every few
seconds (found among the descendants of its nodes' processes, never anything
else on the machine), removes a worker node and adds a fresh one, and asks the
workload to close its client and connect a new one, once.

``--faults`` picks the kinds of fault (``kill``, ``node``, ``restart``; all three
by default), so that what one kind costs can be read on its own; ``--ops`` the
kinds of work, and ``--replace-every`` replaces a node every so many seconds
rather than twice in a run.  The report counts the coordination actors the run
saw created and died: each death loses every shared primitive's state.

Every wait is bounded (``--wait``): a wait that runs out is a *hang*.  A failure
must be an exception naming a fault (``KilledWorker``, a lost node or object, a
died actor); anything else is *unexplained*.  At the end the client's
references (Ray's reference table of this process) and its memory are
compared with the baseline taken after a warm-up round, read apart by
``process_memory``: the resident size and its parts, what glibc's allocator
has handed out, CPython's pools (the arenas mapped, the objects in them), and
what Python allocated since the baseline and still holds.  The memory is read
twice at the end: as the run leaves it, and once dask's and rayexec's bounded
caches of keys are emptied.
Wrong results and hangs must be 0.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import signal
import sys
import threading
import time
import traceback
from collections import Counter as Tally

import numpy as np

# Names of the processes chaos may kill: Ray's worker processes are titled
# "ray::<what they run>"; these are Ray's own helpers, idle workers, and
# rayexec's shared coordination actor, whose loss is a cluster failure rather
# than a worker fault.
SPARED = ("ray::IDLE", "ray::DashboardAgent", "ray::RuntimeEnvAgent", "ray::Coordinator",
          "ray::DatasetStore", "ray::JobSupervisor")

# The kinds of work of a round (Workload's methods).
OPERATIONS = ("futures", "futures_on_futures", "dask_array", "dask_shuffle", "dask_delayed",
              "actor", "coordination")

# The kinds of fault chaos injects: worker kills, a node replaced, the client restarted.
FAULTS = ("kill", "node", "restart")

# Exceptions that name a fault: what a user may see while workers die.
FAULT_ERRORS = ("KilledWorker", "WorkerOutOfMemory", "FutureLostError", "ActorDiedError",
                "RayActorError", "ActorUnavailableError", "ObjectLostError",
                "OwnerDiedError", "ObjectReconstructionFailedError", "NodeDiedError",
                "WorkerCrashedError", "FutureCancelledError", "CancelledError",
                "CoordinationLostError")


# -- the workload -----------------------------------------------------------------------

def inc(x):
    return x + 1


def square(x):
    time.sleep(0.005)  # long enough for a kill to land mid-task now and then
    return x * x


def total(xs):
    return sum(xs)


class Accumulator:
    """An actor keeping a sum."""

    def __init__(self):
        self.n = 0

    def add(self, x):
        self.n += x
        return self.n


class Workload:
    """One round of every kind of work; each check raises ``Wrong`` on a bad result."""

    def __init__(self, client_factory, wait: float, rng: random.Random):
        self.client_factory = client_factory
        self.client = client_factory()
        self.wait = wait
        self.rng = rng

    def operations(self):
        return [getattr(self, name) for name in OPERATIONS]

    def futures(self):
        n = self.rng.randint(20, 200)
        fs = self.client.map(square, range(n), pure=False)
        got = _gather(self, fs)
        check(got == [x * x for x in range(n)], "map/gather")
        one = self.client.submit(inc, n, pure=False)
        check(one.result(timeout=self.wait) == n + 1, "submit")

    def futures_on_futures(self):
        xs = self.client.map(inc, range(50), pure=False)
        s = self.client.submit(total, xs, pure=False)
        t = self.client.submit(inc, s, pure=False)
        check(t.result(timeout=self.wait) == sum(range(1, 51)) + 1, "futures on futures")

    def dask_array(self):
        import dask.array as da

        seed = self.rng.randint(0, 10**6)
        local = np.random.default_rng(seed).random((400, 400))
        x = da.from_array(local, chunks=(100, 100))
        future = self.client.compute((x + x.T).sum(axis=0))
        got = future.result(timeout=self.wait)
        check(np.allclose(got, (local + local.T).sum(axis=0)), "dask array")

    def dask_shuffle(self):
        import dask.dataframe as dd
        import pandas as pd

        seed = self.rng.randint(0, 10**6)
        rs = np.random.default_rng(seed)
        df = pd.DataFrame({"k": rs.integers(0, 20, 2000), "v": rs.integers(0, 100, 2000)})
        ddf = dd.from_pandas(df, npartitions=6).shuffle("k")
        future = self.client.compute(ddf.groupby("k").v.sum())
        got = future.result(timeout=self.wait).sort_index()
        check(got.equals(df.groupby("k").v.sum().sort_index()), "dataframe shuffle")

    def dask_delayed(self):
        import dask

        parts = [dask.delayed(inc)(i) for i in range(30)]
        future = self.client.compute(dask.delayed(total)(parts))
        check(future.result(timeout=self.wait) == sum(range(1, 31)), "delayed")

    def actor(self):
        counter = self.client.submit(Accumulator, actor=True, pure=False).result(
            timeout=self.wait)
        values = [counter.add(i).result(timeout=self.wait) for i in range(1, 11)]
        check(values[-1] == 55, "actor")

    def coordination(self):
        from rayexec import Event, Lock, Queue, Variable

        name = f"soak-{self.rng.randint(0, 10**9)}"
        lock = Lock(name)
        in_time(lock.acquire(timeout=self.wait), "lock acquire")
        lock.release()
        var = Variable(name)
        var.set(42)
        check(var.get(timeout=self.wait) == 42, "variable")
        queue = Queue(name)
        queue.put(7)
        check(queue.get(timeout=self.wait) == 7, "queue")
        event = Event(name)
        event.set()
        in_time(event.wait(timeout=self.wait), "event wait")

    def restart_client(self):
        self.client.close()
        self.client = self.client_factory()


def _gather(workload, fs):
    from rayexec import wait

    done, not_done = wait(fs, timeout=workload.wait)
    if not_done:
        raise TimeoutError(f"{len(not_done)} of {len(fs)} map results not done in "
                           f"{workload.wait} s")
    return workload.client.gather(fs)


class Wrong(AssertionError):
    """A result differs from the local computation."""


def check(ok: bool, what: str) -> None:
    if not ok:
        raise Wrong(f"wrong result: {what}")


def in_time(ok: bool, what: str) -> None:
    if not ok:
        raise TimeoutError(f"{what} did not happen within the bound")


# -- the cluster and the chaos ----------------------------------------------------------

class Cluster:
    """A head and worker nodes, each a ``ray start`` process of this script."""

    def __init__(self, n_nodes: int):
        from rayexec.deploy.local_cluster import RayNode

        self.RayNode = RayNode
        self.head = RayNode(num_cpus=1, object_store_memory=150 * 2**20).start(timeout=300)
        self.workers = [self._worker() for _ in range(n_nodes - 1)]

    def _worker(self):
        return self.RayNode(self.head.address, num_cpus=1,
                            object_store_memory=150 * 2**20).start(timeout=300)

    def nodes(self):
        return [self.head, *self.workers]

    def replace_worker(self) -> None:
        """Remove a worker node (its processes end) and add a fresh one."""
        if self.workers:
            self.workers.pop(0).stop()
        self.workers.append(self._worker())

    def worker_processes(self):
        """Ray worker processes of this cluster's nodes that chaos may kill."""
        import psutil

        found = []
        for node in self.nodes():
            try:
                children = psutil.Process(node.pid).children(recursive=True)
            except psutil.Error:
                continue
            for proc in children:
                try:
                    title = " ".join(proc.cmdline())
                except psutil.Error:
                    continue
                if title.startswith("ray::") and not title.startswith(SPARED):
                    found.append((proc, title))
        return found

    def stop(self) -> None:
        for node in [*self.workers, self.head]:
            node.stop()


class Chaos(threading.Thread):
    """Kill a worker process every ``every`` seconds; replace a node and restart the
    client at set times."""

    def __init__(self, cluster: Cluster, workload_events: dict, duration: float,
                 every: float, rng: random.Random, faults=FAULTS,
                 replace_every: float | None = None):
        super().__init__(daemon=True, name="soak-chaos")
        self.cluster, self.events, self.rng = cluster, workload_events, rng
        self.faults = set(faults)
        self.replace_every = replace_every
        self.duration, self.every = duration, every
        self.stopped = threading.Event()
        self.counts = Tally()
        self.killed_titles = Tally()
        self.errors: list[str] = []

    def run(self) -> None:
        start = time.monotonic()
        # The client restarts early, so that even a short soak sees it; node
        # replacements run on their own thread, so that kills go on meanwhile.
        restart_at = 0.2 * self.duration if "restart" in self.faults else None
        replace_at = [] if "node" not in self.faults else self._replacements()
        replacing: threading.Thread | None = None
        while not self.stopped.wait(self.rng.uniform(0.5, 1.5) * self.every):
            elapsed = time.monotonic() - start
            try:
                if "kill" in self.faults:
                    self._kill_one()
                if restart_at is not None and elapsed >= restart_at:
                    restart_at = None
                    self.events["restart"].set()  # the workload thread does it between ops
                if replace_at and elapsed >= replace_at[0] and not (
                        replacing and replacing.is_alive()):
                    replace_at.pop(0)
                    replacing = threading.Thread(target=self._replace, daemon=True)
                    replacing.start()
            except Exception:
                self.errors.append(traceback.format_exc(limit=3))
        if replacing is not None:
            replacing.join(600)

    def _replacements(self) -> list[float]:
        """When to replace a node, in seconds from the start: every ``replace_every``
        seconds, or at 40% of the run (and 75% of a run of 5 minutes or more)."""
        if self.replace_every:
            count = int(self.duration // self.replace_every)
            return [self.replace_every * i for i in range(1, count + 1)]
        return [0.4 * self.duration] + ([0.75 * self.duration] if self.duration >= 300 else [])

    def _replace(self) -> None:
        try:
            self.cluster.replace_worker()
            self.counts["nodes replaced"] += 1
        except Exception:
            self.errors.append(traceback.format_exc(limit=3))

    def _kill_one(self) -> None:
        candidates = self.cluster.worker_processes()
        if not candidates:
            return
        proc, title = self.rng.choice(candidates)
        try:
            proc.send_signal(signal.SIGKILL)
        except Exception:  # it ended by itself meanwhile
            return
        self.counts["workers killed"] += 1
        what = title.split()[0][:40]
        self.killed_titles[what] += 1
        if not what.startswith("ray::ActorHost"):
            # a task's worker: Ray reruns the task (its retries allow 3 such deaths)
            self.counts["running tasks killed (Ray retries them)"] += 1


# -- the run -----------------------------------------------------------------------------

def classify(exc: BaseException) -> str:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, Wrong):
        return "wrong"
    if isinstance(exc, TimeoutError) and not names & set(FAULT_ERRORS):
        return "hang"
    if names & set(FAULT_ERRORS):
        return "fault error"
    return "unexplained"


def run(duration: float, n_nodes: int, every: float, wait: float, seed: int,
        faults=FAULTS, ops=None, replace_every: float | None = None) -> dict:
    from process_memory import PythonHeld, memory_mb, reference_count

    from rayexec import Client

    rng = random.Random(seed)
    cluster = Cluster(n_nodes)
    events = {"restart": threading.Event()}
    report: dict = {"duration_s": duration, "nodes": n_nodes, "kill_every_s": every,
                    "wait_s": wait, "seed": seed, "faults": list(faults)}
    try:
        workload = Workload(lambda: Client(cluster.head.address, timeout=120), wait, rng)
        for op in workload.operations():  # warm-up: imports, remote functions, actors
            op()
        base_refs, base_memory = reference_count(), memory_mb()
        python_held = PythonHeld().start()
        chaos = Chaos(cluster, events, duration, every, rng, faults, replace_every)
        chosen = [op for op in workload.operations() if ops is None or op.__name__ in ops]
        outcomes, failures, kinds = Tally(), Tally(), Tally()
        samples: list[str] = []
        start = time.monotonic()
        chaos.start()
        while time.monotonic() - start < duration:
            if events["restart"].is_set():
                events["restart"].clear()
                workload.restart_client()
                outcomes["client restarts"] += 1
            op = rng.choice(chosen)
            kinds[op.__name__] += 1  # an actor round makes an actor: Ray keeps a record
            try:
                op()
                outcomes["ok"] += 1
            except BaseException as exc:  # every failure is counted and named
                kind = classify(exc)
                outcomes[kind] += 1
                failures[f"{kind}: {op.__name__}: {type(exc).__name__}"] += 1
                if kind != "fault error" and len(samples) < 10:
                    samples.append(f"{op.__name__}: {type(exc).__name__}: {str(exc)[:300]}")
        chaos.stopped.set()
        chaos.join(700)  # it waits for a node replacement under way
        coordination = coordination_actors()
        workload.client.close()
        workload.client = Client(cluster.head.address, timeout=120)
        gc.collect()
        time.sleep(2)  # Ray frees released references asynchronously
        end_refs, end_memory = reference_count(), memory_mb()
        held_mb, held_sites = python_held.mb(), python_held.sites()  # empties the caches
        python_held.stop()
        emptied_memory = memory_mb()  # CPython's pools too, now that tracing stopped
        workload.client.close()
        report.update({
            "operations": sum(outcomes[k] for k in ("ok", "fault error", "wrong", "hang",
                                                    "unexplained")),
            "ok": outcomes["ok"],
            "operations by kind": dict(kinds),
            "faults injected": {**chaos.counts, "client restarts": outcomes["client restarts"]},
            "killed process titles": dict(chaos.killed_titles.most_common(8)),
            "errors surfaced (named faults)": outcomes["fault error"],
            "wrong results": outcomes["wrong"],
            "hangs": outcomes["hang"],
            "unexplained errors": outcomes["unexplained"],
            "failures by type": dict(failures),
            "samples": samples,
            "chaos errors": chaos.errors[:3],
            "coordination actors": coordination,
            "references": {"baseline": base_refs, "end": end_refs},
            "client memory MB": {part: {"baseline": round(base_memory[part]),
                                        "end": _rounded(end_memory.get(part)),
                                        "end, bounded caches emptied": round(emptied_memory[part])}
                                 for part in base_memory},
            "python memory held since baseline MB": round(held_mb, 2),
            "python memory held, largest sites": held_sites,
        })
        return report
    finally:
        cluster.stop()


def coordination_actors() -> dict:
    """The cluster's coordination actors, alive and dead: each death lost the
    state of every shared primitive.  Read from Ray's actor table (its public
    state API needs the dashboard, which these nodes do not run)."""
    import ray

    head = next(n["NodeID"] for n in ray.nodes() if n["Alive"]
                and "node:__internal_head__" in n["Resources"])
    records = [a for a in ray._private.state.actors().values()
               if a.get("ActorClassName", "").endswith("Coordinator")]
    alive = [a for a in records if a.get("State") == "ALIVE"]
    return {"created": len(records), "died": len(records) - len(alive),
            "alive on the head": sum(a["Address"]["NodeID"] == head for a in alive)}


def _rounded(mb: float | None) -> int | None:
    return None if mb is None else round(mb)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of chaos")
    parser.add_argument("--nodes", type=int, default=3, help="Ray nodes (head included)")
    parser.add_argument("--kill-every", type=float, default=4.0,
                        help="mean seconds between worker kills")
    parser.add_argument("--wait", type=float, default=120.0,
                        help="bound on every wait; running out counts as a hang")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--faults", nargs="*", choices=FAULTS, default=list(FAULTS),
                        help="the kinds of fault to inject (none: the workload alone)")
    parser.add_argument("--ops", nargs="*", choices=OPERATIONS, default=None,
                        help="the kinds of work to run (all by default)")
    parser.add_argument("--replace-every", type=float, default=None,
                        help="seconds between node replacements (default: two in a run)")
    parser.add_argument("--json", action="store_true", help="print only the JSON report")
    args = parser.parse_args(argv)
    report = run(args.duration, args.nodes, args.kill_every, args.wait, args.seed,
                 args.faults, args.ops, args.replace_every)
    print(json.dumps(report, indent=None if args.json else 2))
    bad = report["wrong results"] or report["hangs"] or report["unexplained errors"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
