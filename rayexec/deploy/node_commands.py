"""``dscheduler`` / ``dworker`` (``rayexec scheduler`` / ``rayexec worker``): Ray nodes
in the foreground, taking the flags of ``dask scheduler`` / ``dask worker``.

The flags with a Ray meaning work (``--host --port --nworkers --nthreads
--memory-limit --name --scheduler-file --resources --version
--dashboard-address``); the others stop with one line naming what to use on Ray.

    $ dscheduler --port 8786 --scheduler-file sched.json
    Start scheduler at 192.168.1.5:8786
    $ dworker --scheduler-file sched.json --nworkers 2 --nthreads 1 --memory-limit 2GB
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

from ..workers.preloads import node_environment
from .addresses import normalize_address
from .local_cluster import start_together, stop_nodes
from .memory import default_object_store_memory, node_sizes
from .ray_node import JOIN_WAIT, RayNode

# dask's flags with no Ray counterpart -> what to use instead
_TLS = "Ray's token authentication (RAY_AUTH_MODE=token) or Ray's TLS (RAY_USE_TLS=1)"
UNSUPPORTED_FLAGS = {
    "--interface": "--host with that interface's address",
    "--protocol": "Ray's own transport (gRPC over TCP); no flag is needed",
    "--tls-ca-file": _TLS, "--tls-cert": _TLS, "--tls-key": _TLS,
    "--dashboard": "--dashboard-address to start Ray's dashboard",
    "--jupyter": "Jupyter on its own; Ray's dashboard with --dashboard-address",
    "--show": "--verbose to see Ray's own output",
    "--dashboard-prefix": "a reverse proxy in front of Ray's dashboard",
    "--use-xheaders": "a reverse proxy in front of Ray's dashboard",
    "--pid-file": "the shell's $! (the command runs in the foreground until stopped)",
    "--preload": "a worker's --preload, or a Ray runtime environment "
                 "(worker_process_setup_hook)",
    "--preload-nanny": "a Ray runtime environment (worker_process_setup_hook)",
    "--idle-timeout": "Ray's autoscaler (idle_timeout_minutes in a `ray up` config)",
    "--worker-port": "Ray's own port ranges (ray start --min-worker-port/--max-worker-port)",
    "--nanny-port": "nothing: a Ray node has no nanny",
    "--listen-address": "--host",
    "--contact-address": "--host",
    "--nanny": "nothing: a Ray node restarts its worker processes itself",
    "--no-nanny": "nothing: a Ray node restarts its worker processes itself",
    "--local-directory": "RAY_TMPDIR, where Ray keeps a node's files",
    "--lifetime": "ray stop, or your scheduler's job time limit",
    "--lifetime-stagger": "ray stop, or your scheduler's job time limit",
    "--lifetime-restart": "ray stop, or your scheduler's job time limit",
    "--worker-class": "Ray's worker processes; no other class can be chosen",
    "--scheduler-sni": "Ray's token authentication",
}


class _Unsupported(argparse.Action):
    """A dask flag with no Ray meaning: stop with one line saying what to use."""

    def __init__(self, option_strings, dest, instead="", **kwargs):
        kwargs.update(nargs="?", help=argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)
        self.instead = instead

    def __call__(self, parser, namespace, values, option_string=None):
        parser.exit(2, f"{parser.prog}: {option_string} is not supported on Ray: use "
                       f"{self.instead} instead\n")


class _Version(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="show the versions and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import version

        print(f"{parser.prog}, rayexec {version('rayexec')} (ray {version('ray')})")
        parser.exit(0)


def _add_common(parser, unsupported: dict) -> None:
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--verbose", action="store_true", help="show Ray's own output")
    # dask's scripts often pass it; no dashboard is the default here
    parser.add_argument("--no-dashboard", action="store_true", help="no dashboard (the default)")
    for flag, instead in unsupported.items():
        parser.add_argument(flag, action=_Unsupported, instead=instead)


# -- running nodes in the foreground -----------------------------------------------------
class _StopRequested(Exception):
    """Ctrl-C/SIGTERM arrived while the nodes were still starting."""


def run_nodes(nodes: list[RayNode], banner) -> int:
    """Start ``nodes`` together, print ``banner()``, and keep them running until
    Ctrl-C/SIGTERM.

    A signal during start-up stops the start at once: ``ray start`` waits for
    minutes on a loaded machine, and a user who gives up must not wait for it.
    Returns the exit status: 0 when stopped by a signal, 1 when a node failed.
    """
    stop = threading.Event()
    starting = True

    def on_signal(*_):
        stop.set()
        if starting:
            raise _StopRequested

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        start_together(nodes)
        starting = False
    except _StopRequested:
        print("Stopping the Ray node and its processes", flush=True)
        stop_nodes(nodes)
        return 0
    except (RuntimeError, OSError) as exc:
        starting = False
        print(exc, file=sys.stderr, flush=True)
        stop_nodes(nodes)
        return 1
    for line in banner():
        print(line, flush=True)
    try:
        while not stop.wait(0.5):
            for node in nodes:
                if not node.alive():
                    print("The Ray node exited unexpectedly:\n" + node.output()[-3000:],
                          file=sys.stderr, flush=True)
                    return 1
    finally:
        print("Stopping the Ray node and its processes", flush=True)
        stop_nodes(nodes)
    return 0


def _node_ip() -> str:
    from ray.util import get_node_ip_address

    return get_node_ip_address()


# -- scheduler ---------------------------------------------------------------------------
def add_scheduler_arguments(parser, default_port: int = 8786) -> None:
    parser.add_argument("--port", type=int, default=default_port,
                        help=f"port of the head node, where workers and clients connect "
                             f"(default {default_port}; 0: any free port)")
    parser.add_argument("--host", default=None,
                        help="this node's address, announced to workers and clients "
                             "(default: this machine's IP); Ray's servers listen on every "
                             "interface, protected by its token authentication")
    parser.add_argument("--nthreads", type=int, default=0,
                        help="CPUs the head offers to tasks (default 0: a scheduler runs "
                             "no tasks; workers do)")
    parser.add_argument("--dashboard-address", default=None,
                        help="[host]:port for Ray's dashboard, on loopback without a host "
                             "(default: no dashboard)")
    parser.add_argument("--scheduler-file", default=None,
                        help="write the address here (JSON), for dworker --scheduler-file "
                             "and Client(scheduler_file=...)")
    _add_common(parser, UNSUPPORTED_FLAGS)


def scheduler_main(args, role: str = "scheduler") -> int:
    try:
        node = RayNode(port=args.port or None, num_cpus=args.nthreads,
                       dashboard_address=args.dashboard_address,
                       host=_ray_host(args.host), verbose=args.verbose)
    except (OSError, ValueError) as exc:  # a port in use, a malformed address
        print(f"{role}: {exc}", file=sys.stderr, flush=True)
        return 1
    host = args.host or _node_ip()

    def banner():
        if args.scheduler_file:
            with open(args.scheduler_file, "w") as f:
                json.dump({"type": "Scheduler", "address": f"tcp://{host}:{node.port}",
                           "dashboard": node.dashboard_url}, f, indent=2)
        lines = [f"Start {role} at {host}:{node.port}"]
        if node.dashboard_url:
            lines.append(f"Dashboard at {node.dashboard_url}")
        return lines

    return run_nodes([node], banner)


def _ray_host(host: str | None) -> str | None:
    # Ray replaces a loopback --node-ip-address by the machine's address (it binds
    # loopback only on macOS/Windows); pass it only when it names an interface.
    if host in (None, "", "localhost", "127.0.0.1", "::1", "0.0.0.0"):
        return None
    return host


# -- worker --------------------------------------------------------------------------------
def add_worker_arguments(parser) -> None:
    parser.add_argument("address", nargs="?", default=None,
                        help="the scheduler's address, host:port (or --scheduler-file)")
    parser.add_argument("--scheduler-file", default=None,
                        help="read the scheduler's address from this file (dscheduler "
                             "--scheduler-file, Client.write_scheduler_file)")
    parser.add_argument("--nthreads", type=int, default=None,
                        help="CPUs each worker offers (default: this machine's, shared "
                             "among the workers)")
    parser.add_argument("--nworkers", type=int, default=1,
                        help="how many workers (Ray nodes) to start on this machine")
    parser.add_argument("--memory-limit", default="auto",
                        help="memory per worker: '4GB', a fraction, 'auto' (this machine's "
                             "memory shared among the workers) or 0 for no limit; sets the "
                             "Ray node's memory resource and object store size")
    parser.add_argument("--resources", default=None,
                        help='custom resources, e.g. "GPU=1 special=2"')
    parser.add_argument("--name", default=None, help="the Ray node's name")
    parser.add_argument("--host", default=None,
                        help="this node's address (default: this machine's IP)")
    parser.add_argument("--death-timeout", type=float, default=JOIN_WAIT,
                        help="seconds to wait for the scheduler (its address to answer, "
                             f"its --scheduler-file to appear) before giving up; default "
                             f"{JOIN_WAIT:g}.  Once joined, a Ray node stops when its head "
                             "is gone")
    parser.add_argument("--preload", action="append", default=None, metavar="MODULE",
                        help="a module, .py file or script each worker process runs before "
                             "its tasks (its dask_setup(worker)); may be repeated")
    worker_only = {flag: instead for flag, instead in UNSUPPORTED_FLAGS.items()
                   if flag != "--preload"}
    _add_common(parser, {**worker_only, "--dashboard-address": (
        "the head's dashboard (dscheduler --dashboard-address), which shows every node")})


def parse_resources(text: str | None) -> dict | None:
    """``"GPU=1 special=2"`` (as ``dask worker --resources``) as a dict.

    >>> parse_resources("GPU=1 special=2.5")
    {'GPU': 1.0, 'special': 2.5}
    """
    if not text:
        return None
    out = {}
    for item in text.replace(",", " ").split():
        name, sep, amount = item.partition("=")
        try:
            out[name] = float(amount)
        except ValueError:
            raise ValueError(f"--resources takes NAME=AMOUNT pairs, got {item!r}") from None
        if not sep or not name:
            raise ValueError(f"--resources takes NAME=AMOUNT pairs, got {item!r}")
    return out


def worker_main(args) -> int:
    try:
        nodes, address = _worker_nodes(args)
    except (OSError, ValueError, KeyError) as exc:
        print(f"worker: {exc}", file=sys.stderr, flush=True)
        return 1

    def banner():
        lines = [f"Start worker at                {_node_ip()}:{n.node_manager_port}"
                 for n in nodes]
        return lines + [f"Registered with scheduler at:  {address}"]

    return run_nodes(nodes, banner)


def _worker_nodes(args) -> tuple[list[RayNode], str]:
    if args.address is None and args.scheduler_file is None:
        raise ValueError("give the scheduler's address, or --scheduler-file")
    if args.nworkers < 1:
        raise ValueError(f"--nworkers must be at least 1, got {args.nworkers}")
    address = args.address
    if address is None:
        address = _read_scheduler_file(args.scheduler_file, args.death_timeout)
    address = normalize_address(address)
    nthreads = args.nthreads
    if nthreads is None and args.nworkers > 1:  # share this machine's CPUs, as dask does
        nthreads = max(1, (os.cpu_count() or 1) // args.nworkers)
    memory, store = node_sizes(_memory_limit(args.memory_limit), args.nworkers,
                               default_object_store_memory())
    names = [None] * args.nworkers
    if args.name:
        names = [args.name] if args.nworkers == 1 else [f"{args.name}-{i}"
                                                         for i in range(args.nworkers)]
    # Each worker node gets a Ray temporary directory of its own: two `ray start`
    # of one machine sharing /tmp/ray race there, and one of them never comes up
    # (two `dask worker` commands started at once on one machine is common).
    nodes = [RayNode(address, num_cpus=nthreads, resources=parse_resources(args.resources),
                     memory=memory, object_store_memory=store, host=_ray_host(args.host),
                     node_name=name, private=True, verbose=args.verbose,
                     join_timeout=args.death_timeout,
                     environment=node_environment(args.preload))
             for name in names]
    return nodes, address


def _read_scheduler_file(path: str, timeout: float) -> str:
    """The address in a scheduler file, waiting up to ``timeout`` seconds for a
    scheduler started at the same time to write it, as dask worker does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                return json.load(f)["address"]
        except (FileNotFoundError, json.JSONDecodeError):  # not (fully) written yet
            if time.monotonic() >= deadline:
                raise OSError(f"no scheduler wrote its address to {path!r} within "
                              f"{timeout:g} s (--death-timeout)") from None
            time.sleep(0.2)


def _memory_limit(text: str):
    """A number on the command line is bytes or a fraction, as in dask worker."""
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text
