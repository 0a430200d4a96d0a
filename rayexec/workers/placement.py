"""distributed's placement hints as Ray task options.

``workers=`` (addresses, hosts or IPs) pins to Ray nodes, ``allow_other_workers``
makes the pin soft, ``resources=`` becomes Ray resources (``{"GPU": 1}`` ->
``num_gpus``), ``retries=`` becomes Ray retries that also cover the task's own
exceptions.  ``priority`` has no Ray counterpart: Ray runs ready tasks in the
order they were submitted, so it is accepted and has no effect.

A request no node can satisfy is never left pending for ever:

- at submit, an unknown worker, or resources no (chosen) node has, raise
  :class:`PlacementError`;
- after submit, :func:`guard` watches pending tasks and fails their futures with
  :class:`PlacementError` once the nodes able to run them are gone (a pinned
  node that dies fails at once: Ray itself refuses the task).

On an autoscaling cluster a missing resource may be on its way (a GPU node
being launched); ``dask.config.set({"rayexec.infeasible-timeout": "15 minutes"})``
(or ``DASK_RAYEXEC__INFEASIBLE_TIMEOUT``) lets such tasks wait that long, on
their future, before failing.

>>> task_options(retries=2)
{'max_retries': 2, 'retry_exceptions': True}
"""

from __future__ import annotations

import functools
import socket
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import PlacementError
from .nodes import WorkerInfo, alive_workers

NODE_LABEL = "ray.io/node-id"
GUARD_INTERVAL = 1.0  # seconds between checks of pending tasks that carry hints


# -- resources ---------------------------------------------------------------------

def resource_options(resources: dict[str, float] | None) -> dict:
    """Ray options for distributed-style ``resources``.

    >>> resource_options({"GPU": 1, "CPU": 2, "memory": 10, "special": 1})
    {'num_gpus': 1, 'num_cpus': 2, 'memory': 10, 'resources': {'special': 1}}
    """
    if not resources:
        return {}
    if not isinstance(resources, dict):
        raise TypeError(f"resources must be a dict of name -> amount, got {resources!r}")
    options: dict[str, Any] = {}
    custom = {}
    for name, amount in resources.items():
        if not isinstance(amount, (int, float)) or amount < 0:
            raise ValueError(f"resources[{name!r}] must be a non-negative number, got {amount!r}")
        if name == "GPU":
            options["num_gpus"] = amount
        elif name == "CPU":
            options["num_cpus"] = amount
        elif name == "memory":
            options["memory"] = amount
        else:
            custom[name] = amount
    if custom:
        options["resources"] = custom
    return options


def _needs(options: dict) -> dict[str, float]:
    """What one task with these Ray options takes from a node, in distributed's names.

    >>> _needs({"num_gpus": 1, "resources": {"special": 1}})
    {'CPU': 1, 'GPU': 1, 'special': 1}
    """
    # A Ray task takes one CPU unless told otherwise: a node without CPUs (a
    # head started with --num-cpus=0) cannot run it.
    needs = {"CPU": options.get("num_cpus", 1)}
    for option, name in (("num_gpus", "GPU"), ("memory", "memory")):
        if options.get(option):
            needs[name] = options[option]
    needs.update(options.get("resources") or {})
    return {name: amount for name, amount in needs.items() if amount}


def _totals(worker: WorkerInfo) -> dict[str, float]:
    return {**worker.resources, "memory": worker.memory_limit}


def _can_run(worker: WorkerInfo, needs: dict) -> bool:
    totals = _totals(worker)
    return all(totals.get(name, 0) >= amount for name, amount in needs.items())


def check_feasible(resources: dict | None, candidates: list[WorkerInfo] | None = None) -> None:
    """Refuse ``resources`` that no single worker among ``candidates`` has in total.

    ``candidates`` defaults to every alive worker.  Amounts are compared per
    node: two nodes of one CPU cannot run a task that needs two.
    """
    if not resources:
        return
    requirement = Requirement.of(resource_options(resources))
    workers = alive_workers() if candidates is None else candidates
    if not requirement.feasible(workers):
        raise PlacementError(requirement.refusal(workers))


# -- workers -----------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _host_ips(host: str) -> frozenset[str]:
    """The IPs a host name or IP stands for; loopback also means this machine's IP."""
    try:
        ips = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return frozenset([host])
    if any(ip.startswith("127.") or ip == "::1" for ip in ips):
        import ray

        ips.add(ray.util.get_node_ip_address())
    return frozenset(ips | {host})


def _bare(hint: str) -> str:
    return hint[len("tcp://"):] if hint.startswith("tcp://") else hint


def _named(hint: str, worker: WorkerInfo) -> bool:
    """``hint`` is the worker's address, node id, ``ip:port`` or IP."""
    bare = _bare(hint)
    return hint in (worker.address, worker.node_id, worker.host) or \
        f"tcp://{bare}" == worker.address


def _resolved(hint: str, worker: WorkerInfo) -> bool:
    """``hint`` names the worker's host by another name: ``hostname[:port]``, loopback."""
    host, sep, port = _bare(hint).rpartition(":")
    if not (sep and port.isdigit()):
        host, port = _bare(hint), None
    if port is not None and not worker.address.endswith(f":{port}"):
        return False
    return worker.host in _host_ips(host)


def match_workers(hints: Iterable[str], workers: list[WorkerInfo],
                  strict: bool = True) -> list[WorkerInfo]:
    """The workers named by ``hints``: full addresses, ``host:port``, hosts, IPs or node ids.

    An unknown name raises :class:`PlacementError` (``strict=False``: is skipped).
    A host name matches every worker on that host.
    """
    matched: dict[str, WorkerInfo] = {}
    for hint in hints:
        if not isinstance(hint, str):
            raise TypeError(f"workers= names workers by address string, got {hint!r}")
        # Names are looked up (DNS) only when no worker is named literally.
        found = ([w for w in workers if _named(hint, w)]
                 or [w for w in workers if _resolved(hint, w)])
        if not found and strict:
            known = ", ".join(w.address for w in workers)
            raise PlacementError(f"unknown worker {hint!r} in workers=; the workers are: {known}")
        for w in found:
            matched[w.address] = w
    return list(matched.values())


def _as_list(workers) -> list:
    if isinstance(workers, str):
        return [workers]
    if not isinstance(workers, (list, tuple, set, frozenset)):
        raise TypeError(f"workers must be a worker address, a list or set of them, or None; "
                        f"got {workers!r}")
    return list(workers)


def _resolve(workers, strict: bool) -> list[WorkerInfo]:
    hints = _as_list(workers)
    try:
        return match_workers(hints, alive_workers(fresh=False), strict)
    except PlacementError:  # maybe a node that joined after the cached listing
        return match_workers(hints, alive_workers(fresh=True), strict)


def pin_options(chosen: list[WorkerInfo], soft: bool = False) -> dict:
    """Ray scheduling options that run a task on one of ``chosen``."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    if len(chosen) == 1:
        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(chosen[0].node_id,
                                                                      soft=soft)}
    node_ids = ",".join(w.node_id for w in chosen)
    options: dict[str, Any] = {"label_selector": {NODE_LABEL: f"in({node_ids})"}}
    if soft:
        options["fallback_strategy"] = [{"label_selector": {}}]
    return options


def actor_pin(node_id: str) -> dict:
    """Ray options that start an actor on the node ``node_id``, or elsewhere if it cannot.

    Ray places an actor that asks for no resources (``num_cpus=0``) on a random
    node, whatever its soft node affinity says (tasks and hard pins are not
    affected; ray#25360 mended the hard case only).  Asking for one byte of
    memory, which every node has, makes the pin count.

    >>> sorted(actor_pin("ab" * 28).items())[0]
    ('memory', 1)
    """
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=True),
            "memory": 1}


def head_options() -> dict:
    """Ray options that place a cluster-wide actor on the head node, where it
    lives as long as the cluster: not on a worker node that may be retired,
    scaled away or lost (anywhere if the head cannot take it)."""
    head = [w for w in alive_workers(fresh=False) if w.is_head]
    return actor_pin(head[0].node_id) if head else {}


def worker_options(workers, allow_other_workers: bool = False) -> dict:
    """Ray scheduling options pinning a task to ``workers``.

    With ``allow_other_workers=True`` the pin is a preference, and names of
    unknown workers are ignored, as in distributed.
    """
    if workers is None:
        if allow_other_workers:
            raise ValueError("Only use allow_other_workers= if using workers=")
        return {}
    chosen = _resolve(workers, strict=not allow_other_workers)
    if not chosen:
        return {}
    return pin_options(chosen, soft=allow_other_workers)


# -- all hints ---------------------------------------------------------------------

def task_options(*, workers=None, resources=None, allow_other_workers=False,
                 retries=None, priority=0) -> dict:
    """All Ray options for one submission's hints (``priority`` has no effect on Ray).

    >>> task_options(resources={"GPU": 1}, retries=1)  # doctest: +SKIP
    {'max_retries': 1, 'retry_exceptions': True, 'num_gpus': 1}
    """
    options: dict[str, Any] = {}
    if retries:
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be a non-negative integer, got {retries!r}")
        options.update(max_retries=retries, retry_exceptions=True)
    options.update(resource_options(resources))
    options.update(worker_options(workers, allow_other_workers))
    if (resources or workers is not None) and infeasible_timeout() == 0:
        requirement = Requirement.of(options)
        if not requirement.feasible(alive_workers(fresh=False)):
            if not requirement.feasible(alive_workers(fresh=True)):
                raise PlacementError(requirement.refusal(alive_workers(fresh=False)))
    return options


def infeasible_timeout() -> float:
    """Seconds a task no node can run may wait for one (``rayexec.infeasible-timeout``)."""
    import dask.config
    from dask.utils import parse_timedelta

    value = dask.config.get("rayexec.infeasible-timeout", 0)
    return float(parse_timedelta(value, default="s") or 0)


@dataclass(frozen=True)
class Requirement:
    """What a task's options demand of the node that runs it."""

    needs: tuple  # sorted (resource, amount) pairs
    node_ids: frozenset | None  # None: any node
    soft: bool

    @classmethod
    def of(cls, options: dict) -> Requirement:
        node_ids = None
        strategy = options.get("scheduling_strategy")
        if hasattr(strategy, "node_id"):
            node_ids = frozenset([strategy.node_id])
            soft = bool(strategy.soft)
        else:
            selector = (options.get("label_selector") or {}).get(NODE_LABEL)
            if selector:
                node_ids = frozenset(selector[len("in("):-1].split(","))
            soft = bool(options.get("fallback_strategy"))
        return cls(tuple(sorted(_needs(options).items())), node_ids, soft)

    def candidates(self, workers: list[WorkerInfo]) -> list[WorkerInfo]:
        if self.node_ids is None or self.soft:
            return workers
        return [w for w in workers if w.node_id in self.node_ids]

    def feasible(self, workers: list[WorkerInfo]) -> bool:
        needs = dict(self.needs)
        return any(_can_run(w, needs) for w in self.candidates(workers))

    def refusal(self, workers: list[WorkerInfo]) -> str:
        """Why no worker can run the task, naming the request and what there is.

        >>> worker = WorkerInfo("tcp://10.0.0.5:4000", "ab", "10.0.0.5", 2, 2**33, {"CPU": 2.0})
        >>> Requirement.of({"memory": 3 * 2**33}).refusal([worker])
        'no worker has CPU 1, memory 24.00 GiB for this task (on one node); the workers have: tcp://10.0.0.5:4000: CPU 2, memory 8.00 GiB'
        """
        candidates = self.candidates(workers)
        chosen = "chosen " if len(candidates) < len(workers) else ""
        wanted = f"no {chosen}worker has {_amounts(dict(self.needs))} for this task (on one node)"
        if not candidates:
            return f"{wanted}; no {chosen}worker is alive"
        have = "; ".join(f"{w.address}: {_amounts(_totals(w))}" for w in candidates)
        return f"{wanted}; the {chosen}workers have: {have}"


def _amounts(resources: dict[str, float]) -> str:
    """Resource amounts as a person reads them: memory in MiB/GiB, counts without ``.0``.

    >>> _amounts({"CPU": 2.0, "memory": 1.5 * 2**30, "special": 0.5})
    'CPU 2, memory 1.50 GiB, special 0.5'
    """
    from dask.utils import format_bytes

    return ", ".join(f"{name} {format_bytes(int(amount)) if name == 'memory' else f'{amount:g}'}"
                     for name, amount in resources.items())


# -- watching pending tasks --------------------------------------------------------

class _Guard:
    """One background thread failing pending tasks that no alive node can run."""

    def __init__(self):
        self._lock = threading.Lock()
        # requirement -> [weakrefs to states, infeasible since (monotonic) or None]
        self._watched: dict[Requirement, list] = {}
        self._thread: threading.Thread | None = None

    def add(self, states, requirement: Requirement) -> None:
        with self._lock:
            entry = self._watched.setdefault(requirement, [[], None])
            entry[0].extend(weakref.ref(s) for s in states)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="rayexec-placement",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(GUARD_INTERVAL)
            with self._lock:
                self._prune()
                if not self._watched:
                    self._thread = None
                    return
                watched = {r: (list(e[0]), e[1]) for r, e in self._watched.items()}
            try:
                self._check(watched)
            except Exception:  # Ray went away: nothing left to guard here
                with self._lock:
                    self._watched.clear()

    def _prune(self) -> None:
        for requirement in list(self._watched):
            refs = self._watched[requirement][0]
            refs[:] = [r for r in refs if (s := r()) is not None and not s.done()]
            if not refs:
                del self._watched[requirement]

    def _check(self, watched) -> None:
        import ray

        if not ray.is_initialized():
            raise RuntimeError("Ray is not running")
        workers = alive_workers()
        now = time.monotonic()
        for requirement, (refs, since) in watched.items():
            if requirement.feasible(workers):
                since = None
            elif since is None:
                since = now
            with self._lock:
                if requirement in self._watched:
                    self._watched[requirement][1] = since
            if since is not None and now - since >= infeasible_timeout():
                _fail([r() for r in refs], PlacementError(requirement.refusal(workers)))


def _fail(states, error: PlacementError) -> None:
    import ray

    for state in states:
        if state is None or state.done():
            continue
        ref = state.ref
        state.fail(error)  # first, so that the cancellation below is not what users see
        if ref is not None:
            try:
                ray.cancel(ref)
            except Exception:  # already gone
                pass


_guard = _Guard()


def guard(states, options: dict) -> None:
    """Fail ``states`` (pending tasks launched with ``options``) if no node can run them.

    A no-op for options without placement hints; cheap otherwise (one thread,
    one look at the cluster per second while such tasks are pending).
    """
    if not any(k in options for k in ("scheduling_strategy", "label_selector", "num_cpus",
                                      "num_gpus", "memory", "resources")):
        return
    _guard.add(states, Requirement.of(options))


# -- data on chosen workers -----------------------------------------------------------

def _hold(value):
    return value


@functools.cache
def _holder():
    import ray

    # No retries: the value cannot be recomputed anyway, and Ray then keeps
    # no lineage, so the copy sent from here is freed once it has arrived.
    return ray.remote(num_cpus=0, max_retries=0)(_hold)


def _put(value, options: dict):
    try:
        return _holder().options(**options).remote(value)
    except Exception as exc:
        raise TypeError(f"rayexec cannot serialise a {type(value).__name__} to scatter it: "
                        f"{type(exc).__name__}: {exc}") from exc


def put_on(value, workers, allow_other_workers: bool = False):
    """Store ``value`` on one of ``workers``; its ObjectRef (``scatter(workers=...)``).

    A tiny task pinned there returns the value, so Ray keeps it in that node's
    object store.  Values under Ray's inline limit (100 KB) travel with the
    task's reply instead and live with the client, as ``who_has`` shows.

    >>> ref = put_on(list(range(10**6)), ["tcp://10.0.0.5:40000"])  # doctest: +SKIP
    """
    return _put(value, worker_options(workers, allow_other_workers))


def put_all(values: list, workers) -> list:
    """Store ``values`` round-robin on the named workers, as distributed's scatter
    spreads a list; their ObjectRefs in order.

    >>> refs = put_all([a, b, c], ["tcp://10.0.0.5:40000", "tcp://10.0.0.6:40000"])
    ... # doctest: +SKIP
    """
    chosen = _resolve(workers, strict=True)
    pins = [pin_options([w]) for w in chosen]
    return [_put(value, pins[i % len(pins)]) for i, value in enumerate(values)]
