"""Libraries' own distributed tests, run in place against a checkout, through the shim.

    python tests/scripts/library_suites.py joblib /path/to/joblib-checkout [--real] [pytest args]

runs the library's distributed test files (:data:`SUITES`) with ``import
distributed`` resolving to rayexec's shim -- or, with ``--real``, to the real
distributed, to compare -- and prints pytest's summary and the tests left out,
each with its reason.  Nothing is downloaded and no upstream test is copied
here; a checkout at the installed version is at hand with ``pip download
--no-deps --no-binary :all: joblib==X`` (the sdists carry the tests).
``tests/test_libraries_suites.py`` runs it under pytest when ``JOBLIB_SOURCE``,
``DASK_SOURCE`` or ``XARRAY_SOURCE`` names a checkout.

The library's own pytest configuration and conftest apply (its fixtures, marks
and warning filters), except its ``addopts`` (coverage options need plugins
that may be missing).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

SUITES = {
    "joblib": ["joblib/test/test_dask.py"],
    "dask": ["dask/tests/test_distributed.py",
             "dask/dataframe/dask_expr/tests/test_distributed.py",
             "dask/dataframe/dask_expr/io/tests/test_distributed.py"],
    "xarray": ["xarray/tests/test_distributed.py"],
}

_INTERNALS = "reads the scheduler's or a worker's internal state"

# library -> {test id (a prefix matches its parametrizations): why it is left out}.
# Only tests that read scheduler or worker internals, or need a part of
# distributed that has no meaning on Ray, belong here.
EXCLUDED: dict[str, dict[str, str]] = {
    "joblib": {
        "joblib/test/test_dask.py::test_scheduler_tasks_cleanup":
            f"{_INTERNALS}: client.cluster.scheduler.tasks",
        "joblib/test/test_dask.py::test_dont_assume_function_purity":
            f"{_INTERNALS}: counts events in each worker's task story (dask_worker.state)",
        "joblib/test/test_dask.py::test_wait_for_workers":
            "an adaptive LocalCluster of zero workers scaled up later: Ray nodes are "
            "added with `ray start`, not by the client",
        "joblib/test/test_dask.py::test_wait_for_workers_timeout":
            "a LocalCluster of zero workers: a Ray cluster always has its head node",
    },
    "dask": {
        "dask/tests/test_distributed.py::test_persist":
            f"{_INTERNALS}: a.data / b.data",
        "dask/tests/test_distributed.py::test_local_get_with_distributed_active":
            f"{_INTERNALS}: s.tasks",
        "dask/tests/test_distributed.py::test_await":
            f"{_INTERNALS}: s.tasks, a.data",
        "dask/tests/test_distributed.py::test_release_persisted_futures_without_gc":
            f"{_INTERNALS}: s.tasks",
    },
    "xarray": {
        "xarray/tests/test_distributed.py::test_async":
            f"{_INTERNALS}: s.tasks",
    },
}


def _plugin(folder: str, real: bool, compat: str) -> str:
    """A pytest plugin that stops the run unless ``distributed`` is the one wanted."""
    check = (f"assert not distributed.__file__.startswith({compat!r}), distributed.__file__\n"
             if real else
             "import rayexec\n"
             "assert distributed.Client is rayexec.Client, distributed.__file__\n")
    with open(os.path.join(folder, "which_distributed.py"), "w") as f:
        f.write("import distributed\n" + check)
    return "which_distributed"


def command(library: str, checkout: str, real: bool = False, extra=(),
            test_timeout: int = 180) -> tuple[list[str], dict]:
    """The pytest command line and environment running ``library``'s suite."""
    if library not in SUITES:
        raise ValueError(f"library must be one of {sorted(SUITES)}, got {library!r}")
    if not os.path.isdir(os.path.join(checkout, library)):
        raise ValueError(f"{checkout!r} is not a checkout of {library} (no {library}/ inside)")
    folder = tempfile.mkdtemp(prefix=f"{library}-suite-")
    compat = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "compat")
    plugin = _plugin(folder, real, compat)
    path = [folder, checkout] if real else [compat, folder, checkout]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    args = [sys.executable, "-m", "pytest", *SUITES[library], "-q", "-rfE",
            "-p", "no:cacheprovider", "-p", plugin, "-o", "addopts=",
            "-o", f"timeout={test_timeout}"]
    for test in EXCLUDED.get(library, {}):
        args += ["--deselect", test]
    return [*args, *extra], env


def run(library: str, checkout: str, real: bool = False, extra=(),
        timeout: int = 1800) -> tuple[dict[str, int], str]:
    """Run the suite; pytest's counts (``{"passed": 12, "failed": 1}``) and its output."""
    args, env = command(library, checkout, real, extra)
    done = subprocess.run(args, cwd=checkout, env=env, capture_output=True, text=True,
                          timeout=timeout)
    lines = done.stdout.strip().splitlines()
    summary = lines[-1] if lines else ""
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    return counts, done.stdout + done.stderr[-3000:]


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    library, checkout, *rest = argv
    real = "--real" in rest
    rest = [a for a in rest if a != "--real"]
    counts, output = run(library, checkout, real, rest)
    print(output[-8000:])
    which = "real distributed" if real else "rayexec (shim)"
    print(f"{library} on {which}: " + ", ".join(f"{n} {w}" for w, n in counts.items()))
    for test, why in EXCLUDED.get(library, {}).items():
        print(f"left out: {test}: {why}")
    return 0 if counts and not counts.get("failed") and not counts.get("error") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
