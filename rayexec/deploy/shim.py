"""The drop-in ``distributed`` shim: where it is, and turning it on for a process
(:func:`activate_shim`) or for a whole environment (:func:`shim_on` / :func:`shim_off`).
"""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
from pathlib import Path

PTH_NAME = "rayexec_shim.pth"
SHIM_ENV = "RAYEXEC_SHIM"  # "0" turns an environment-wide shim off for one process


def compat_dir() -> str:
    """The directory holding the ``distributed`` shim package.

    >>> os.path.isfile(os.path.join(compat_dir(), "distributed", "__init__.py"))
    True
    """
    here = Path(__file__).resolve().parents[1]  # the rayexec package
    # a checkout (or editable install) has compat/ beside the package; a wheel ships it
    # inside the package as _shim/
    for path in (here.parent / "compat", here / "_shim"):
        if (path / "distributed" / "__init__.py").is_file():
            return str(path)
    raise FileNotFoundError(
        f"this rayexec installation has no distributed shim (looked in {here.parent / 'compat'} "
        f"and {here / '_shim'}); reinstall rayexec")


def _is_shim(module) -> bool:
    return str(getattr(module, "__file__", "") or "").startswith(compat_dir())


def activate_shim() -> str:
    """Make ``import distributed`` in this process -- and the processes it starts,
    such as an embedded Ray's workers -- give rayexec's shim; returns its directory.

    Call it before anything imports distributed (or dask.distributed).

    >>> import rayexec
    >>> rayexec.activate_shim()  # doctest: +SKIP
    >>> import distributed       # doctest: +SKIP
    >>> distributed.Client       # doctest: +SKIP
    <class 'rayexec.client.Client'>
    """
    path = compat_dir()
    loaded = sys.modules.get("distributed")
    if loaded is not None and not _is_shim(loaded):
        raise RuntimeError(
            f"the real distributed is already imported in this process "
            f"({loaded.__file__}); call activate_shim() before anything imports "
            "distributed or dask.distributed")
    if path not in sys.path:
        sys.path.insert(0, path)
    importlib.invalidate_caches()
    prepend_pythonpath(os.environ, path)
    return path


def prepend_pythonpath(env, path: str) -> None:
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != path]
    env["PYTHONPATH"] = os.pathsep.join([path, *parts])


def pth_file(site_dir: str | None = None) -> Path:
    """The ``.pth`` file that turns the shim on for an environment."""
    return Path(site_dir or sysconfig.get_paths()["purelib"]) / PTH_NAME


def shim_on(site_dir: str | None = None) -> Path:
    """Turn the shim on for every Python started from this environment.

    Writes a ``.pth`` file into ``site_dir`` (default: this environment's
    site-packages) that puts the shim first on the path -- ahead of a real
    distributed -- unless ``RAYEXEC_SHIM=0`` is set.  The ``dask`` command
    (``dask scheduler``, ``dask worker``: the real distributed's own commands)
    keeps the real package; rayexec's are ``rayexec scheduler``/``rayexec worker``.
    """
    path = pth_file(site_dir)
    path.write_text(_PTH_LINE.format(env=SHIM_ENV, shim=compat_dir()))
    return path


# One line, run by Python at start-up (``site`` executes .pth lines starting with
# ``import``).  sys.argv is already set then: ``.../bin/dask ...`` or
# ``python -m dask ...`` run dask's command line, whose "dask_cli" entry points
# import the real distributed.cli; the shim would hide them.
_PTH_LINE = (
    "import os, sys; os.environ.get({env!r}, '1') == '0' "
    "or os.path.basename(sys.argv[0]).partition('.')[0] == 'dask' "
    "or sys.orig_argv[1:3] == ['-m', 'dask'] "
    "or sys.path.insert(0, {shim!r})\n")


def shim_off(site_dir: str | None = None) -> bool:
    """Turn the environment-wide shim off; whether it was on."""
    path = pth_file(site_dir)
    if path.exists():
        path.unlink()
        return True
    return False
