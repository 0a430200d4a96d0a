"""The cluster and shim commands: ``dscheduler`` / ``dcenter`` / ``dworker``, and
``rayexec scheduler | worker | run | shim``.

``dscheduler`` (``rayexec scheduler``) runs a Ray head node and ``dworker
ADDRESS`` (``rayexec worker ADDRESS``) a Ray node joined to it, in the
foreground as distributed's commands did; Ctrl-C or SIGTERM stops every Ray
process they started.  ``dcenter`` is the 2015 name, on port 8787.

``rayexec run script.py [args]`` runs a script written for distributed with the
shim first on the path; ``rayexec shim on|off|status`` turns the shim on for a
whole environment and off again.  In a running program, :func:`activate_shim`
does it before anything imports distributed.

    $ dscheduler
    Start scheduler at 192.168.1.5:8786
    $ dworker 192.168.1.5:8786
    Start worker at                192.168.1.5:40231
    Registered with scheduler at:  192.168.1.5:8786
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from .local_cluster import RayNode
from .shim import SHIM_ENV, compat_dir, prepend_pythonpath, pth_file, shim_off, shim_on


# -- running a node in the foreground ---------------------------------------------------
def run_node(node: RayNode, banner) -> int:
    """Start ``node``, print ``banner(node)``, and keep it running until Ctrl-C/SIGTERM.

    Returns the exit status: 0 when stopped by a signal, 1 when the node failed.
    """
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    try:
        node.launch()
        node.wait_ready()
    except (RuntimeError, OSError) as exc:
        print(exc, file=sys.stderr, flush=True)
        node.stop()
        return 1
    for line in banner(node):
        print(line, flush=True)
    try:
        while not stop.wait(0.5):
            if not node.alive():
                print("The Ray node exited unexpectedly:\n" + node.output()[-3000:],
                      file=sys.stderr, flush=True)
                return 1
    finally:
        print("Stopping the Ray node and its processes", flush=True)
        node.stop()
    return 0


def _node_ip() -> str:
    from ray.util import get_node_ip_address

    return get_node_ip_address()


# -- scheduler ---------------------------------------------------------------------------
def add_scheduler_arguments(parser, default_port: int = 8786) -> None:
    parser.add_argument("--port", type=int, default=default_port,
                        help=f"port of the head node, where workers and clients connect "
                             f"(default {default_port})")
    parser.add_argument("--host", default=None,
                        help="address to announce (default: this machine's IP)")
    parser.add_argument("--nthreads", type=int, default=0,
                        help="CPUs the head offers to tasks (default 0: a scheduler runs "
                             "no tasks; workers do)")
    parser.add_argument("--dashboard-address", default=None,
                        help="host:port for Ray's dashboard (default: no dashboard)")
    parser.add_argument("--verbose", action="store_true", help="show Ray's own output")


def scheduler_main(args, role: str = "scheduler") -> int:
    node = RayNode(port=args.port, num_cpus=args.nthreads,
                   dashboard_address=args.dashboard_address, verbose=args.verbose)
    host = args.host or _node_ip()
    return run_node(node, lambda n: [f"Start {role} at {host}:{n.port}"])


# -- worker --------------------------------------------------------------------------------
def add_worker_arguments(parser) -> None:
    parser.add_argument("address", help="the scheduler's address, host:port")
    parser.add_argument("--nthreads", type=int, default=None,
                        help="CPUs this worker offers (default: all of this machine's)")
    parser.add_argument("--resources", default=None,
                        help='custom resources, e.g. "GPU=1 special=2"')
    parser.add_argument("--verbose", action="store_true", help="show Ray's own output")


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
    from .connect import normalize_address

    address = normalize_address(args.address)
    node = RayNode(address, num_cpus=args.nthreads, resources=parse_resources(args.resources),
                   verbose=args.verbose)

    def banner(n):
        return [f"Start worker at                {_node_ip()}:{n.node_manager_port}",
                f"Registered with scheduler at:  {address}"]

    return run_node(node, banner)


# -- run -------------------------------------------------------------------------------------
def add_run_arguments(parser) -> None:
    # Everything after -m MODULE (or after the script) is the program's own, as
    # with python: ``rayexec run -m pytest -q`` gives pytest its -q.
    parser.add_argument("-m", dest="module", nargs=argparse.REMAINDER, default=None,
                        help="MODULE [ARGS]: run a module as a script, as python -m does")
    parser.add_argument("target", nargs=argparse.REMAINDER,
                        help="script.py and its arguments")


def run_main(args) -> int:
    program = (["-m", *args.module] if args.module else args.target)
    if not program or program == ["-m"]:
        raise SystemExit("rayexec run: give a script or a module to run: "
                         "rayexec run script.py [args] or rayexec run -m module [args]")
    env = dict(os.environ)
    prepend_pythonpath(env, compat_dir())
    sys.stdout.flush()
    # the program becomes this process: signals, exit code
    os.execve(sys.executable, [sys.executable, *program], env)


# -- shim on / off ---------------------------------------------------------------------------
def add_shim_arguments(parser) -> None:
    parser.add_argument("action", choices=["on", "off", "status"])
    parser.add_argument("--site-dir", default=None,
                        help="site-packages directory to switch (default: this environment's)")


def shim_main(args) -> int:
    path = pth_file(args.site_dir)
    if args.action == "on":
        shim_on(args.site_dir)
        print(f"distributed is rayexec in this environment ({path}); "
              f"turn off with: rayexec shim off, or {SHIM_ENV}=0 for one process")
    elif args.action == "off":
        was_on = shim_off(args.site_dir)
        print(f"shim off ({path} removed)" if was_on else "shim was not on")
    else:
        print(f"shim {'on' if path.exists() else 'off'} ({path})")
    return 0


# -- entry points ------------------------------------------------------------------------------
# ``rayexec <name>``: the argument parser and main function of each subcommand.
_SUBCOMMANDS = {
    "scheduler": (add_scheduler_arguments, scheduler_main),
    "worker": (add_worker_arguments, worker_main),
    "run": (add_run_arguments, run_main),
    "shim": (add_shim_arguments, shim_main),
}


def add_arguments(parser) -> None:
    """For ``rayexec``'s COMMANDS: this module serves several subcommands, told
    apart by the subparser's name."""
    _SUBCOMMANDS[parser.prog.split()[-1]][0](parser)


def main(args) -> int:
    return _SUBCOMMANDS[args.command][1](args)


def _standalone(prog: str, description: str, add, run):
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add(parser)
    return run(parser.parse_args())


def dscheduler() -> int:
    """``dscheduler``: a Ray head node on port 8786, in the foreground."""
    return _standalone("dscheduler", "Start a scheduler (a Ray head node)",
                       add_scheduler_arguments, scheduler_main)


def dcenter() -> int:
    """``dcenter``: the 2015 name of the scheduler, on port 8787."""
    return _standalone("dcenter", "Start a center (a Ray head node)",
                       lambda p: add_scheduler_arguments(p, default_port=8787),
                       lambda args: scheduler_main(args, role="center"))


def dworker() -> int:
    """``dworker ADDRESS``: a Ray node joined to the scheduler at ADDRESS."""
    return _standalone("dworker", "Start a worker (a Ray node) joined to a scheduler",
                       add_worker_arguments, worker_main)
