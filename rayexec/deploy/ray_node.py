"""One Ray node as a child process of this one: ``ray start --block``.

A distributed *scheduler* is a Ray *head node* and a *worker* is a Ray node
joined to it.  Each node runs as ``ray start ... --block``, a child process that
stays in the foreground and, when it gets SIGTERM, stops every Ray process it
started.  This is Ray's supported way to start a node, and it works from any
thread (starting a node inside this process installs signal handlers, which
only the main thread may do).
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from ..utils import open_port
from . import kept

logger = logging.getLogger(__name__)

READY_LINE = "Ray runtime started"
RAYLET_REGISTER_WAIT = 120  # seconds
# How often Ray's processes send their task events to the state API, which
# processing(), story() and the task stream read (Ray's default: 1000 ms, so
# processing() listed tasks that had ended a second ago).
TASK_EVENTS_INTERVAL_MS = 100
# How long a joining node waits for its head to answer (distributed's connect timeout).
JOIN_WAIT = 30.0  # seconds
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

# Threads that live as long as the program, to start node processes from.
_LASTING_THREADS = concurrent.futures.ThreadPoolExecutor(
    max_workers=2, thread_name_prefix="rayexec-node-starter")


@contextlib.contextmanager
def environ_while(values: dict):
    """``os.environ`` with ``values`` inside the block: the Ray processes started
    there inherit them (and pass them on to their worker processes); this process
    gets its own back after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, before in saved.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before


def use_node_settings(env) -> None:
    """Put the settings of the Ray nodes rayexec starts into ``env``, the
    environment a node starts with (a value already there wins); their worker
    processes inherit them."""
    # How long the head waits for a starting node to register; at load averages
    # of 20 and more Ray's default is too short and the node gives up.
    env.setdefault("RAY_raylet_start_wait_time_s", str(RAYLET_REGISTER_WAIT))
    env.setdefault("RAY_task_events_report_interval_ms", str(TASK_EVENTS_INTERVAL_MS))


def on_lasting_thread(fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)`` on a thread that lives as long as the program.

    Linux sends a child its parent-death signal when the *thread* that started
    it ends (the launcher above sets it; Ray sets it on the processes
    ``ray.init`` starts).  A cluster started from a thread that then ended -- a
    web handler, a helper thread that hands its client over, nodes started
    beside the head -- would stop with that thread.  The main thread lasts, so
    work started there stays there.
    """
    if threading.current_thread() is threading.main_thread():
        return fn(*args, **kwargs)
    return _LASTING_THREADS.submit(fn, *args, **kwargs).result()


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


# Ray's default range of ports for its worker processes.
WORKER_PORTS = (10002, 19999)


def _worker_ports_besides(port: int) -> list[str]:
    """``ray start`` options keeping the worker processes' ports off ``port``.

    Ray refuses to start a node when another of its ports (a dashboard at
    :12355, say) lies in the workers' range; the range then keeps its larger
    side of ``port``.

    >>> _worker_ports_besides(8787)
    []
    >>> _worker_ports_besides(12355)
    ['--min-worker-port=12356', '--max-worker-port=19999']
    """
    low, high = WORKER_PORTS
    if not low <= port <= high:
        return []
    if port - low > high - port:
        low, high = low, port - 1
    else:
        low, high = port + 1, high
    return [f"--min-worker-port={low}", f"--max-worker-port={high}"]


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
    started.  ``launch()`` and ``wait_ready()`` are its two halves, so that several
    nodes start at once.  The output of ``ray start`` is kept (``output()``), and
    echoed when ``verbose``.  ``private=True`` gives the node a Ray temporary
    directory of its own: nodes starting together do not race for socket names
    there, and the machine-wide "current cluster" file of ``ray.init()`` is left
    alone.

    >>> node = RayNode(num_cpus=1).start()  # doctest: +SKIP
    >>> node.address                        # doctest: +SKIP
    '127.0.0.1:41623'
    >>> node.stop()                         # doctest: +SKIP
    """

    def __init__(self, address: str | None = None, *, port: int | None = None,
                 num_cpus: int | None = None, resources: dict | None = None,
                 object_store_memory: int | None = None, memory: int | None = None,
                 dashboard_address=None, host: str | None = None, node_name: str | None = None,
                 private: bool = False, verbose: bool = False,
                 join_timeout: float = JOIN_WAIT, environment: dict | None = None):
        self.head = address is None
        self.port = port if port is not None else None
        self.address = address
        self.host = host
        self.node_manager_port = free_port()
        self.dashboard_url: str | None = None
        self.verbose = verbose
        self.join_timeout = join_timeout
        self.environment = dict(environment or {})  # passed on to its worker processes
        self.temp_dir = tempfile.mkdtemp(prefix="rayexec-") if private else None
        self._keep_files = False  # a node that failed to start keeps its logs for the user
        self._lines: collections.deque[str] = collections.deque(maxlen=300)
        self._ready = threading.Event()
        self._spec = (num_cpus, resources, object_store_memory, memory, dashboard_address,
                      node_name)
        self._args = self._command(*self._spec)
        self.process: subprocess.Popen | None = None

    def _command(self, num_cpus, resources, object_store_memory, memory,
                 dashboard_address, node_name) -> list:
        args = ["start", "--block", "--disable-usage-stats",
                f"--node-manager-port={self.node_manager_port}",
                # 52365 is Ray's fixed default: a second node on one machine would clash.
                f"--dashboard-agent-listen-port={free_port()}"]
        if self.head:
            self.port = self.port or free_port()
            check_port_free(self.port, self.host or "")
            self.address = f"127.0.0.1:{self.port}"
            args += ["--head", f"--port={self.port}",
                     f"--ray-client-server-port={free_port(10001)}"]
            if dashboard_address:
                host, dport = dashboard_host_port(dashboard_address)
                self.dashboard_url = f"http://{host}:{dport}"
                args += ["--include-dashboard=true", f"--dashboard-host={host}",
                         f"--dashboard-port={dport}", *_worker_ports_besides(dport)]
            else:
                args += ["--include-dashboard=false", f"--dashboard-port={free_port(8265)}"]
        else:
            args += [f"--address={self.address}"]
        if self.host:
            args.append(f"--node-ip-address={self.host}")
        if node_name:
            args.append(f"--node-name={node_name}")
        if self.temp_dir:
            args.append(f"--temp-dir={self.temp_dir}")
        if num_cpus is not None:
            args.append(f"--num-cpus={int(num_cpus)}")
        if resources:
            args.append(f"--resources={json.dumps(resources)}")
        if object_store_memory:
            args.append(f"--object-store-memory={int(object_store_memory)}")
        if memory:
            args.append(f"--memory={int(memory)}")
        return args

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def launch(self) -> RayNode:
        """Start the process without waiting for the node to be up.

        A worker checks first that its scheduler answers, waiting up to
        ``join_timeout`` for one that is still starting: ``ray start`` would
        retry for minutes before saying anything.
        """
        if not self.head:
            from .addresses import check_reachable

            check_reachable(self.address, timeout=self.join_timeout)
        self._keep_files = False
        env = {**os.environ, **self.environment}
        # Drain on SIGTERM exists for Ray Serve; a scheduler or worker stops at once,
        # as distributed's do.
        env.setdefault("RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S", "0")
        use_node_settings(env)
        if self.head:
            use_token_auth(env)
        elif "RAY_AUTH_MODE" not in env:  # the head's mode, whatever tokens lie around
            from .addresses import auth_mode_of

            mode = auth_mode_of(self.address)
            if mode is not None:
                env["RAY_AUTH_MODE"] = mode
        _shim_for_tasks(env)
        command = [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "ray.scripts.scripts",
                   *self._args]
        # A session of its own: Ctrl-C in a terminal reaches this process, which
        # then stops the node in order, instead of reaching every Ray process at once.
        self.process = on_lasting_thread(
            subprocess.Popen, command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env=env, start_new_session=True)
        threading.Thread(target=self._read, daemon=True, name=f"ray-node-{self.pid}").start()
        atexit.register(self.stop)  # a program that forgets close() leaves no node behind
        return self

    def answering_address(self, given_up: threading.Event) -> str | None:
        """This head's address once its GCS answers, before :meth:`wait_ready`
        returns; None if ``given_up`` is set first.  Other nodes can join from then on."""
        from .addresses import wait_for_gcs

        return self.address if wait_for_gcs(self.address, given_up) else None

    def _read(self) -> None:
        for line in self.process.stdout:
            line = _ANSI.sub("", line.rstrip("\n"))
            self._lines.append(line)
            if self.verbose:
                print(line, file=sys.stderr, flush=True)
            if READY_LINE in line:
                self._ready.set()

    def wait_ready(self, timeout: float = 180) -> RayNode:
        """Block until the node is up; ``NodeStartError`` with Ray's output if it is not."""
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            raylet_died = self._raylet_died()
            if self.process.poll() is not None or raylet_died or time.monotonic() > deadline:
                failed = self.process.poll() is not None or raylet_died
                self._keep_files = True  # the logs the error points to
                self.stop()
                if failed:
                    # A `ray start` that gave up leaves its raylet (and the head's GCS)
                    # running in the session we gave it: end them before any retry.
                    try:
                        os.killpg(self.process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                what = ("exited" if self.process.poll() is not None else
                        "lost its raylet" if raylet_died else f"was not up within {timeout} s")
                raise NodeStartError(f"`ray start` for {self.describe()} {what}: "
                                     f"{self._reason()}", self.output(), exited=failed)
        return self

    def _raylet_died(self) -> bool:
        """Whether the raylet this ``ray start`` started has already ended.

        Such a node never comes up (a raylet whose port was taken meanwhile, for
        one), but ``ray start`` notices only after the registration wait of
        :data:`RAYLET_REGISTER_WAIT`; seen here, the node is started again at once.
        """
        import psutil  # a dependency of Ray

        try:
            return any(child.name() == "raylet" and child.status() == psutil.STATUS_ZOMBIE
                       for child in psutil.Process(self.process.pid).children())
        except psutil.Error:  # `ray start` itself ended: poll() tells
            return False

    def start(self, timeout: float = 180, attempts: int = 5) -> RayNode:
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
                self.with_new_ports()

    def with_new_ports(self) -> RayNode:
        """Before starting again: ports chosen afresh (one may have been taken)."""
        self._lines.clear()
        self.node_manager_port = free_port()
        self._args = self._command(*self._spec)
        return self

    def _reason(self) -> str:
        """Ray's one-line reason (its last exception line), and where its logs are."""
        lines = [line for line in self._lines if line.strip()]
        reason = next((line for line in reversed(lines)
                       if line.startswith(("Exception:", "RuntimeError:", "OSError:",
                                           "ConnectionError:", "ValueError:"))),
                      lines[-1] if lines else "no output")
        logs = os.path.join(self.temp_dir or "/tmp/ray", "session_latest", "logs")
        return f"{reason.strip()} (Ray's logs: {logs} on this machine)"

    def describe(self) -> str:
        return f"the head at port {self.port}" if self.head else f"a worker of {self.address}"

    def output(self) -> str:
        return "\n".join(self._lines)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        """Ask the node to stop (SIGTERM), without waiting: :meth:`stop` waits."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 30) -> None:
        """Stop the node and every Ray process it started; idempotent."""
        if self.head and self.address:
            kept.end(at=self.address)  # else Ray would wait on the gone head as it lets go
        process = self.process
        if process is not None and process.poll() is None:
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
        if self.temp_dir and not self._keep_files and (process is None
                                                       or process.poll() is not None):
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def check_port_free(port: int, host: str = "") -> None:
    """``OSError`` in one line when something already listens at ``port``.

    Ray would fail later with a long traceback from deep inside its start-up.

    >>> import socket
    >>> with socket.socket() as s:
    ...     s.bind(("", 0)); s.listen()
    ...     check_port_free(s.getsockname()[1])
    Traceback (most recent call last):
      ...
    OSError: port ... is already in use: choose another with --port, or 0 for any free port
    """
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            raise OSError(f"port {port} is already in use: choose another with --port, "
                          "or 0 for any free port") from None


def dashboard_host_port(address) -> tuple[str, int]:
    """Where Ray's dashboard should listen, for distributed's ``dashboard_address``.

    No host means loopback, as distributed's ``":8787"`` means a dashboard on this
    machine; a taken port means another free one (Ray would fail to start).

    >>> dashboard_host_port("0.0.0.0:8787")[0]
    '0.0.0.0'
    >>> dashboard_host_port(":8787")[0]
    '127.0.0.1'
    """
    host, _, port = str(address).rpartition(":")
    host = host or "127.0.0.1"
    try:
        wanted = int(port) if port else 8265
    except ValueError:
        raise ValueError(f"dashboard_address must be 'host:port' or ':port', "
                         f"got {address!r}") from None
    return host, free_port(wanted, host)
