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
import sys

from .node_commands import (  # noqa: F401  (parse_resources: public)
    add_scheduler_arguments,
    add_worker_arguments,
    parse_resources,
    scheduler_main,
    worker_main,
)
from .shim import SHIM_ENV, compat_dir, prepend_pythonpath, pth_file, shim_off, shim_on


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


def _standalone(prog: str, description: str, add, run, argv=None):
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add(parser)
    return run(parser.parse_args(argv))


def _dask_subcommand(name: str, description: str, add, run):
    """``dask <name>`` through the shim: dask's command line takes its subcommands
    as click commands from the "dask_cli" entry points (the real distributed's
    ``distributed.cli.dask_scheduler:main``, which the shim's ``distributed``
    resolves to this); the flags are parsed as ``dscheduler``/``dworker`` parse them."""
    import click

    @click.command(name=name, help=description, add_help_option=False,
                   context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args):
        sys.exit(_standalone(f"dask {name}", description, add, run, list(args)))

    return command


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


def _dask_subcommand_not_on_ray(name: str, instead: str):
    """A ``dask <name>`` that has no Ray counterpart: listed, and one line saying so."""
    import click

    @click.command(name=name, help=f"Not supported on Ray: use {instead}",
                   context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(args):
        sys.exit(f"dask {name} is not supported on Ray: use {instead} instead")

    return command


# ``dask scheduler`` / ``dask worker`` with the shim's ``distributed`` on the path
dask_scheduler = _dask_subcommand("scheduler", "Start a scheduler (a Ray head node)",
                                  add_scheduler_arguments, scheduler_main)
dask_worker = _dask_subcommand("worker", "Start a worker (a Ray node) joined to a scheduler",
                               add_worker_arguments, worker_main)
dask_ssh = _dask_subcommand_not_on_ray(
    "ssh", "`ray up` with a cluster config of provider type 'local' listing the hosts")
dask_spec = _dask_subcommand_not_on_ray("spec", "`dscheduler` and `dworker`, or LocalCluster")
