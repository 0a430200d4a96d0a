"""Ray nodes as processes on this machine: ``LocalCluster`` and the node behind the commands.

A distributed *scheduler* is a Ray *head node* and a *worker* is a Ray node
joined to it.  Each node runs as ``ray start ... --block``, a child process that
stays in the foreground and, when it gets SIGTERM, stops every Ray process it
started.  Other processes -- on this machine or others -- join or connect at the
head's port, which is the point of a cluster that outlives a single ``Client``.

>>> from rayexec import LocalCluster, Client
>>> cluster = LocalCluster(n_workers=2, threads_per_worker=1)  # doctest: +SKIP
>>> client = Client(cluster)                                    # doctest: +SKIP
>>> client.nthreads()                                           # doctest: +SKIP
{'tcp://192.168.1.5:40671': 1, 'tcp://192.168.1.5:38231': 1}
>>> client.close(); cluster.close()                             # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref

from ..utils import open_port

logger = logging.getLogger(__name__)

READY_LINE = "Ray runtime started"
RAYLET_REGISTER_WAIT = 120  # seconds
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Makes the child get SIGTERM when this process dies, even by SIGKILL, so no
# node outlives the program that started it (Linux; elsewhere atexit covers it).
_LAUNCHER = (
    "import ctypes, os, signal, sys\n"
    "try:\n"
    "    ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"
    "except Exception:\n"
    "    pass\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


def free_port(preferred: int | None = None, host: str = "") -> int:
    """``preferred`` if nothing listens there, else a port the OS says is free.

    >>> 0 < free_port() < 65536
    True
    """
    if preferred:
        with socket.socket() as s:
            try:
                s.bind((host, preferred))
                return preferred
            except OSError:
                pass
    return open_port(host)


def use_token_auth(env=None) -> None:
    """Turn on Ray's token mode in ``env`` (default: this process) when a token exists.

    ``ray start --head`` secures a new cluster with a token (kept in
    ``~/.ray/auth_token``), but a process joining or connecting to it presents the
    token only in token mode.  An explicit ``RAY_AUTH_MODE`` is left alone.
    """
    env = os.environ if env is None else env
    if "RAY_AUTH_MODE" in env:
        return
    if env.get("RAY_AUTH_TOKEN") or env.get("RAY_AUTH_TOKEN_PATH") or os.path.exists(
            os.path.expanduser("~/.ray/auth_token")):
        env["RAY_AUTH_MODE"] = "token"


def _shim_for_tasks(env) -> None:
    """Tasks on the node see ``import distributed`` as rayexec's shim.

    A function pickled by a client running through the shim refers to the
    module ``distributed`` by name; the node's workers must resolve that name the
    same way.  (A real distributed, if the node's environment has one, is shadowed
    on this node only.)
    """
    from .shim import compat_dir, prepend_pythonpath

    try:
        prepend_pythonpath(env, compat_dir())
    except FileNotFoundError:  # an installation without the shim: nothing to add
        pass


class NodeStartError(RuntimeError):
    """A Ray node did not come up: the first line says why, the rest is Ray's output."""

    def __init__(self, reason: str, output: str = "", exited: bool = True):
        super().__init__(reason, output)
        self.exited = exited

    def __str__(self) -> str:
        reason, output = self.args[0], self.args[1] if len(self.args) > 1 else ""
        return f"{reason}\n{output[-4000:]}" if output else reason


class RayNode:
    """One ``ray start --block`` child process: a head (``address=None``) or a worker.

    ``start()`` waits until the node is up; ``stop()`` ends it and everything it
    started.  The output of ``ray start`` is kept (``output()``), and echoed
    when ``verbose``.
    """

    def __init__(self, address: str | None = None, *, port: int | None = None,
                 num_cpus: int | None = None, resources: dict | None = None,
                 object_store_memory: int | None = None, dashboard_address=None,
                 verbose: bool = False):
        self.head = address is None
        self.port = port if port is not None else None
        self.address = address
        self.node_manager_port = free_port()
        self.dashboard_url: str | None = None
        self.verbose = verbose
        self._lines: collections.deque[str] = collections.deque(maxlen=300)
        self._ready = threading.Event()
        self._spec = (num_cpus, resources, object_store_memory, dashboard_address)
        self._args = self._command(*self._spec)
        self.process: subprocess.Popen | None = None

    def _command(self, num_cpus, resources, object_store_memory, dashboard_address) -> list:
        args = ["start", "--block", "--disable-usage-stats",
                f"--node-manager-port={self.node_manager_port}",
                # 52365 is Ray's fixed default: a second node on one machine would clash.
                f"--dashboard-agent-listen-port={free_port()}"]
        if self.head:
            self.port = free_port() if not self.port else self.port
            self.address = f"127.0.0.1:{self.port}"
            args += ["--head", f"--port={self.port}",
                     f"--ray-client-server-port={free_port(10001)}"]
            if dashboard_address:
                host, _, dport = str(dashboard_address).rpartition(":")
                host = host or "127.0.0.1"
                # A taken port would make the dashboard, and with it the node, fail.
                dport = free_port(int(dport or 8265), host)
                self.dashboard_url = f"http://{host}:{dport}"
                args += ["--include-dashboard=true", f"--dashboard-host={host}",
                         f"--dashboard-port={dport}"]
            else:
                args += ["--include-dashboard=false", f"--dashboard-port={free_port(8265)}"]
        else:
            args += [f"--address={self.address}"]
        if num_cpus is not None:
            args.append(f"--num-cpus={int(num_cpus)}")
        if resources:
            args.append(f"--resources={json.dumps(resources)}")
        if object_store_memory:
            args.append(f"--object-store-memory={int(object_store_memory)}")
        return args

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def launch(self) -> RayNode:
        """Start the process without waiting for the node to be up.

        A worker checks first that its scheduler answers: ``ray start`` would
        retry for minutes before saying anything.
        """
        if not self.head:
            from .connect import check_reachable

            check_reachable(self.address, timeout=10)
        env = dict(os.environ)
        # Drain on SIGTERM exists for Ray Serve; a scheduler or worker stops at once,
        # as distributed's do.
        env.setdefault("RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S", "0")
        # How long the head waits for a starting node to register; at load averages
        # of 20 and more Ray's default is too short and the node gives up.
        env.setdefault("RAY_raylet_start_wait_time_s", str(RAYLET_REGISTER_WAIT))
        use_token_auth(env)
        _shim_for_tasks(env)
        command = [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "ray.scripts.scripts",
                   *self._args]
        # A session of its own: Ctrl-C in a terminal reaches this process, which
        # then stops the node in order, instead of reaching every Ray process at once.
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env=env,
                                        start_new_session=True)
        threading.Thread(target=self._read, daemon=True, name=f"ray-node-{self.pid}").start()
        atexit.register(self.stop)  # a program that forgets close() leaves no node behind
        return self

    def _read(self) -> None:
        for line in self.process.stdout:
            line = _ANSI.sub("", line.rstrip("\n"))
            self._lines.append(line)
            if self.verbose:
                print(line, file=sys.stderr, flush=True)
            if READY_LINE in line:
                self._ready.set()

    def wait_ready(self, timeout: float = 120) -> RayNode:
        """Block until the node is up; ``NodeStartError`` with Ray's output if it is not."""
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                failed = self.process.poll() is not None
                self.stop()
                if failed:
                    # A `ray start` that gave up leaves its raylet (and the head's GCS)
                    # running in the session we gave it: end them before any retry.
                    try:
                        os.killpg(self.process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                what = "exited" if failed else f"was not up within {timeout} s"
                raise NodeStartError(f"`ray start` for {self.describe()} {what}: "
                                     f"{self._reason()}", self.output(), exited=failed)
        return self

    def start(self, timeout: float = 120, attempts: int = 5) -> RayNode:
        """Launch the node and wait until it is up, ``attempts`` times at most.

        On a loaded machine ``ray start`` gives up by itself when its raylet has
        not registered within Ray's fixed 30 s; a fresh attempt (new ports) is
        what Ray allows.  A node that was not up within ``timeout`` is not retried.
        """
        for attempt in range(1, attempts + 1):
            try:
                return self.launch().wait_ready(timeout)
            except NodeStartError as exc:
                if not exc.exited or attempt == attempts:
                    if attempt > 1:
                        exc.args = (f"{exc.args[0]} (attempt {attempt} of {attempts})",
                                    *exc.args[1:])
                    raise
                logger.warning("%s; starting it again", exc.args[0])
                self._lines.clear()
                self.node_manager_port = free_port()
                self._args = self._command(*self._spec)

    def _reason(self) -> str:
        """Ray's one-line reason (its last exception line), and where its logs are."""
        lines = [line for line in self._lines if line.strip()]
        reason = next((line for line in reversed(lines)
                       if line.startswith(("Exception:", "RuntimeError:", "OSError:",
                                           "ConnectionError:", "ValueError:"))),
                      lines[-1] if lines else "no output")
        return f"{reason.strip()} (Ray's logs: /tmp/ray/session_latest/logs on this machine)"

    def describe(self) -> str:
        return f"the head at port {self.port}" if self.head else f"a worker of {self.address}"

    def output(self) -> str:
        return "\n".join(self._lines)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30) -> None:
        """Stop the node and every Ray process it started; idempotent."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            # The node's processes share the session we gave it: end them all.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


class LocalCluster:
    """A Ray cluster on this machine, shaped like distributed's ``LocalCluster``.

    ``n_workers`` Ray nodes of ``threads_per_worker`` CPUs each; the head listens
    at ``scheduler_port`` (0: any free port), so other processes can connect
    (``Client(cluster.scheduler_address)``) or add workers (``dworker ADDRESS``).
    ``dashboard_address`` starts Ray's dashboard there (``None``: no dashboard).
    Other arguments of distributed's ``LocalCluster`` are accepted and ignored.

    >>> with LocalCluster(n_workers=1, scheduler_port=0) as cluster:  # doctest: +SKIP
    ...     with Client(cluster) as client:
    ...         client.submit(sum, [1, 2]).result()
    3
    """

    def __init__(self, name=None, n_workers=None, threads_per_worker=None, processes=None,
                 loop=None, start=None, host=None, ip=None, scheduler_port=0,
                 silence_logs=logging.WARN, dashboard_address=":8787",
                 worker_dashboard_address=None, services=None, worker_services=None,
                 service_kwargs=None, asynchronous=False, security=None, protocol=None,
                 blocked_handlers=None, interface=None, worker_class=None,
                 scheduler_kwargs=None, scheduler_sync_interval=1, **worker_kwargs):
        from .connect import _default_object_store_memory

        for arg, value in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"LocalCluster({arg}=...) must be a non-negative int, "
                                 f"got {value!r}")
        ncpus = os.cpu_count() or 1
        if n_workers is None:
            n_workers = 1 if threads_per_worker is None else max(1, ncpus // threads_per_worker)
        if threads_per_worker is None:
            threads_per_worker = max(1, -(-ncpus // max(n_workers, 1)))
        self.name = name or f"LocalCluster-{os.getpid()}"
        self.host = host or ip or "127.0.0.1"
        self.asynchronous = asynchronous
        self.status = "starting"
        self._threads = threads_per_worker
        self._memory = worker_kwargs.get("object_store_memory") or (
            _default_object_store_memory() // max(n_workers, 1))
        self._resources = worker_kwargs.get("resources")
        self._workers: list[RayNode] = []
        self._head = RayNode(port=scheduler_port or None, num_cpus=threads_per_worker,
                             resources=self._resources, object_store_memory=self._memory,
                             dashboard_address=_dashboard(dashboard_address))
        self._finalizer = weakref.finalize(self, _stop_all, self._head, self._workers)
        atexit.register(self._finalizer)
        self._head.start()
        self.scale(n_workers)
        use_token_auth()  # so that Client(cluster) in this process can connect
        self.status = "running"

    @property
    def scheduler_address(self) -> str:
        return f"tcp://{self.host}:{self._head.port}"

    @property
    def dashboard_link(self) -> str | None:
        """Ray's dashboard, when ``dashboard_address`` asked for one."""
        return self._head.dashboard_url

    @property
    def workers(self) -> dict[int, RayNode]:
        """Worker number -> its node (0 is the head node, which also runs tasks)."""
        return dict(enumerate([self._head, *self._workers]))

    def scale(self, n: int) -> None:
        """Run ``n`` worker nodes in all (the head counts as one; it is never removed)."""
        n = max(1, int(n))
        while len(self._workers) + 1 > n:
            self._workers.pop().stop()
        # One node after another: nodes starting together on a small machine time out,
        # and can pick the same socket names.
        for _ in range(n - 1 - len(self._workers)):
            self._workers.append(RayNode(
                self._head.address, num_cpus=self._threads, resources=self._resources,
                object_store_memory=self._memory).start())

    def close(self, timeout=None) -> None:
        """Stop every node of the cluster."""
        if self.status == "closed":
            return
        self._finalizer()
        self.status = "closed"

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"LocalCluster({self.name!r}, {self.scheduler_address!r}, "
                f"workers={len(self._workers) + 1}, threads={self._threads}, "
                f"status={self.status})")


class _NodeRole:
    """A Ray node playing a distributed role: closes, works as a context manager,
    and ``await``s to itself (it is running once constructed)."""

    _node: RayNode

    def close(self) -> None:
        self._node.stop()
        self.status = "closed"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __await__(self):
        yield from ()
        return self


class Scheduler(_NodeRole):
    """A Ray head node that runs no tasks: distributed's ``Scheduler`` on this machine.

    Also takes the first dask.distributed's spelling, ``Scheduler(hostname=...,
    port_to_workers=..., port_to_clients=...)``: on Ray workers and clients use
    the same address.

    >>> s = Scheduler(port=0)               # doctest: +SKIP
    >>> w = Worker(s.address_to_workers)    # doctest: +SKIP
    >>> c = Client(s.address_to_clients)    # doctest: +SKIP
    >>> w.close(); s.close()                # doctest: +SKIP
    """

    def __init__(self, host=None, port=0, dashboard_address=None, *, hostname=None,
                 port_to_workers=None, port_to_clients=None, **kwargs):
        self.host = host or hostname or "127.0.0.1"
        self._node = RayNode(port=port or port_to_workers or port_to_clients or None,
                             num_cpus=0, dashboard_address=dashboard_address).start()
        use_token_auth()  # so that Client(self.address) in this process can connect
        self.status = "running"

    @property
    def address(self) -> str:
        return f"tcp://{self.host}:{self._node.port}"

    address_to_workers = address_to_clients = address

    @property
    def port(self) -> int:
        return self._node.port



class Worker(_NodeRole):
    """A Ray node joined to the scheduler at an address: distributed's ``Worker``.

    ``Worker("tcp://host:port")``, ``Worker(host, port)`` or the first
    dask.distributed's ``Worker(scheduler="tcp://host:port")``.  ``nthreads``
    is its CPU count (default: all of this machine's).

    >>> w = Worker("tcp://127.0.0.1:8786", nthreads=2)  # doctest: +SKIP
    """

    def __init__(self, scheduler_ip=None, scheduler_port=None, *, scheduler=None, nthreads=None,
                 resources=None, data=None, **kwargs):
        from .connect import normalize_address

        address = scheduler or scheduler_ip
        if address is None:
            raise TypeError("Worker needs the scheduler's address: Worker('tcp://host:port')")
        if scheduler_port is not None:
            address = f"{address}:{scheduler_port}"
        self.scheduler_address = normalize_address(address)
        self._node = RayNode(self.scheduler_address, num_cpus=nthreads,
                             resources=resources).start()
        self.status = "running"

    @property
    def address(self) -> str:
        from ray.util import get_node_ip_address

        return f"tcp://{get_node_ip_address()}:{self._node.node_manager_port}"


Nanny = Worker


def _dashboard(address):
    # distributed's default ":8787" asks for a dashboard; Ray's serves on its own port.
    if address is None or address is False:
        return None
    return address


def _stop_all(head: RayNode, workers: list[RayNode]) -> None:
    for node in [*workers, head]:
        node.stop()
