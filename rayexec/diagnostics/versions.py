"""``Client.get_versions``: the software on the client, the head node and each worker.

The same shape as distributed's: ``{"client": ..., "scheduler": ..., "workers":
{address: ...}}``, each ``{"host": {...}, "packages": {name: version}}``.  Ray
needs the same Python and Ray (and the same versions of the libraries a task
uses) everywhere; ``check=True`` says where they differ.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import struct
import sys

# Versions that must agree for tasks to run: their pickles cross processes.
REQUIRED = ("python", "ray", "rayexec", "dask", "cloudpickle", "toolz")
OPTIONAL = ("numpy", "pandas", "tornado", "msgpack", "pyarrow")


def _version(package: str) -> str | None:
    if package == "python":
        return ".".join(map(str, sys.version_info[:3]))
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def here(packages: tuple[str, ...] = ()) -> dict:
    """This process's host and package versions.

    >>> sorted(here()) == ["host", "packages"]
    True
    >>> here()["packages"]["python"] == platform.python_version()
    True
    """
    host = {
        "python": sys.version.split()[0],
        "python-bits": struct.calcsize("P") * 8,
        "OS": platform.uname().system,
        "OS-release": platform.uname().release,
        "machine": platform.uname().machine,
        "processor": platform.uname().processor,
        "byteorder": sys.byteorder,
        "LC_ALL": os.environ.get("LC_ALL", "None"),
        "LANG": os.environ.get("LANG", "None"),
    }
    names = dict.fromkeys(REQUIRED + OPTIONAL + tuple(packages))
    return {"host": host, "packages": {name: _version(name) for name in names}}


def mismatches(versions: dict, packages: tuple[str, ...] = ()) -> list[str]:
    """Lines naming each required package whose version differs between the places.

    >>> same = {"packages": {"ray": "2.0"}}
    >>> mismatches({"client": same, "scheduler": same, "workers": {}})
    []
    >>> mismatches({"client": same, "scheduler": {"packages": {"ray": "1.0"}}, "workers": {}})
    ['ray: client 2.0, scheduler 1.0']
    """
    places = {"client": versions["client"], "scheduler": versions["scheduler"],
              **versions["workers"]}
    lines = []
    for package in REQUIRED + tuple(packages):
        seen = {name: place["packages"].get(package) for name, place in places.items()
                if package in place["packages"]}
        if len(set(seen.values())) > 1:
            lines.append(f"{package}: " + ", ".join(f"{name} {v}" for name, v in seen.items()))
    return lines
