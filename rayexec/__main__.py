"""The ``rayexec`` command: ``python -m rayexec demo`` and the cluster commands."""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module, help); each module has ``add_arguments(parser)`` and ``main(args)``
COMMANDS = {
    "demo": ("rayexec.demo", "walk through the futures API on an embedded local Ray"),
    "scheduler": ("rayexec.deploy.commands", "run a scheduler (a Ray head node) in the foreground"),
    "worker": ("rayexec.deploy.commands", "run a worker (a Ray node) joined to a scheduler"),
    "run": ("rayexec.deploy.commands", "run a script written for distributed, on rayexec"),
    "shim": ("rayexec.deploy.commands", "turn the distributed shim on or off for this environment"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rayexec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    return module.main(args) or 0


if __name__ == "__main__":
    sys.exit(main())
