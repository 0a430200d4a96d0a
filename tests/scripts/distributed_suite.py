"""distributed's own synchronous public-API tests, run on rayexec through the shim.

Needs a checkout of the dask/distributed repository (at the tag of the installed
``distributed``, or the nearest one: the PyPI sdist carries no tests).  Nothing is
downloaded and no upstream test is copied here: the tests run in place.

    python tests/scripts/distributed_suite.py /path/to/distributed-checkout \
        [--only test_actor.py,...] [pytest args]

prints each failure, then ``passed N, failed M, excluded K`` with the reason of
every exclusion.  ``tests/test_distributed_suite.py`` runs it under pytest when
``DISTRIBUTED_SOURCE`` names a checkout.

In scope are the synchronous tests (the ``client``/``loop`` fixtures,
``cluster()``) of the files in :data:`FILES`; coroutine tests (``gen_cluster``,
``gen_test``) are left out, because most read the scheduler and workers they get.

This file is also the pytest plugin of that run (``-p distributed_suite``):

- upstream modules import many of distributed's internals at the top
  (``Scheduler``, ``distributed.metrics``, ``distributed.comm`` ...).  So that a
  module imports at all, a name the shim lacks stands in as a :class:`Missing`
  that fails the test which uses it, naming what it touched;
- tests that read scheduler or worker internals are excluded, each with its
  reason (:data:`EXCLUDED`), and reported as such.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import tempfile
import types

FILES = [
    "distributed/tests/test_client.py",
    "distributed/tests/test_as_completed.py",
    "distributed/tests/test_client_executor.py",
    "distributed/tests/test_actor.py",
    "distributed/tests/test_variable.py",
    "distributed/tests/test_queues.py",
    "distributed/tests/test_locks.py",
    "distributed/tests/test_events.py",
    "distributed/tests/test_semaphore.py",
    "distributed/tests/test_publish.py",
    "distributed/tests/test_worker_client.py",
    "distributed/diagnostics/tests/test_progressbar.py",
    "distributed/tests/test_dask_collections.py",
    "distributed/tests/test_failed_workers.py",
    "distributed/tests/test_worker.py",
    "distributed/diagnostics/tests/test_progress_widgets.py",
    "distributed/diagnostics/tests/test_task_stream.py",
    "distributed/tests/test_stress.py",
    "distributed/tests/test_preload.py",
]

# "file::test" -> why it is not a public-API test.  Only tests that read the
# scheduler's or the workers' internals belong here.
EXCLUDED: dict[str, str] = {
    "test_client.py::test_no_future_references":
        "holds distributed.profile.lock, the lock of distributed's sampling profiler",
    "test_client.py::test_global_clients":
        "reads distributed.client._global_clients / _get_global_client, the Client's registry",
    "test_client.py::test_get_client_no_cluster": "clears Worker._instances, a worker registry",
    "test_client.py::test_computation_code_walk_frames":
        "calls Client._get_computation_code, the scheduler's record of submitting code",
    "test_client.py::test_computation_object_code_dask_compute":
        "reads the scheduler's computations (dask_scheduler.computations)",
    "test_client.py::test_computation_object_code_dask_compute_no_frames_default":
        "reads the scheduler's computations (dask_scheduler.computations)",
    "test_client.py::test_computation_object_code_not_available":
        "reads the scheduler's computations (dask_scheduler.computations)",
    "test_client.py::test_dump_cluster_state_sync":
        "checks a dump of the scheduler's and workers' internal state",
    "test_client.py::test_dump_cluster_state_write_from_scheduler":
        "checks a dump of the scheduler's and workers' internal state",
    "test_semaphore.py::test_threadpoolworkers_pick_correct_ioloop":
        "reads Semaphore.refresh_callback, the semaphore's internal lease-refresh timer",
    "test_client.py::test_direct_to_workers":
        "reads the scheduler's event log through run_on_scheduler",
    "test_client.py::test_release_persisted_collection_sync":
        "polls the scheduler's task table (dask_scheduler.tasks, through run_on_scheduler)",
    "test_client.py::test_worker_clients_do_not_claim_ownership_of_serialize_futures":
        "polls the scheduler's task table (dask_scheduler.tasks, through run_on_scheduler)",
    "test_client.py::test_quiet_client_close":
        "polls the scheduler's task table (c.cluster.scheduler.tasks)",
    "test_client.py::test_rebalance_sync":
        "reads each worker's data dict (c.cluster.workers[i].data)",
    "test_actor.py::test_worker_actor_handle_is_weakref_sync":
        "reads a worker's data dict and actor table (dask_worker.data, .state.actors)",
    "test_actor.py::test_worker_actor_handle_is_weakref_from_compute_sync":
        "reads a worker's data dict and actor table (dask_worker.data, .state.actors)",
    "test_actor.py::test_compute_sync":
        "ends by polling each worker's data dict and actor table (dask_worker.data, "
        ".state.actors); what it computes first (compute(actors=...)) is checked by "
        "rayexec's tests/test_fidelity.py",
    "test_failed_workers.py::test_restart_sync":
        "asks the scheduler's task table over its RPC (c.scheduler.who_has) before and "
        "after restart; what restart does to futures is checked by rayexec's tests",
    "test_worker.py::test_error_message":
        "calls distributed.worker.error_message, the worker's helper that packs an "
        "exception for the wire",
    "test_worker.py::test_worker_dir":
        "reads each worker's local_directory from the scheduler's worker table (s.workers)",
}

TEST_TIMEOUT = 180  # seconds a test may take (the machines these run on are often loaded)

COMPAT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "compat")


# -- the plugin: standing in for distributed's internals ---------------------------


class MissingName(Exception):
    """A test used a part of distributed that the shim does not serve."""


class Missing:
    """A name of distributed the shim lacks: any use fails the test that made it.

    Used as a base class it gives a plain class (so a module defining a
    ``WorkerPlugin`` subclass still imports); applied as a decorator while the
    module loads it gives a test that fails when run.
    """

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def _fail(self, *args, **kwargs):
        raise MissingName(f"{self._name} is not served by rayexec's distributed")

    def __call__(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and inspect.isfunction(args[0]):
            @functools.wraps(args[0])
            def uses_missing(*a, **k):
                self._fail()

            return uses_missing
        self._fail()

    def __getattr__(self, attr):
        if attr.startswith("_"):  # what pytest and Python probe objects for
            raise AttributeError(attr)
        self._fail()

    def __mro_entries__(self, bases):
        return (object,)

    # Truth too: `skipif(not FLAG)` must not quietly skip a test.
    __iter__ = __enter__ = __aenter__ = __getitem__ = __setattr__ = __bool__ = _fail

    def __repr__(self):
        return f"<missing {self._name}>"


# pytest collects the checkout's ``distributed`` package (which imports as the shim)
# and asks it for its setup functions.
_PROBED = ("__", "pytest_", "setup_", "setUp", "teardown_", "tearDown")


def _missing_getattr(module: types.ModuleType) -> None:
    original = module.__dict__.get("__getattr__")

    def __getattr__(name, _original=original, _module=module.__name__):
        if _original is not None:
            try:
                return _original(name)
            except AttributeError:
                pass
        if name.startswith(_PROBED):  # what Python and pytest look modules up for
            raise AttributeError(name)
        return Missing(f"{_module}.{name}")

    module.__getattr__ = __getattr__


class _MissingModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on ``sys.meta_path``: a ``distributed.*`` module the shim lacks
    imports as a module of :class:`Missing` names."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("distributed."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__path__ = []
        _missing_getattr(module)


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    import distributed

    if not distributed.__file__.startswith(COMPAT):
        raise RuntimeError(f"distributed is not the shim here: {distributed.__file__}")
    _missing_getattr(distributed)
    for info in pkgutil.walk_packages(distributed.__path__, "distributed."):
        _missing_getattr(importlib.import_module(info.name))
    sys.meta_path.append(_MissingModules())


_installed = False


def install_in_worker() -> None:
    """The stand-ins in a Ray worker process, which imports the test modules to
    unpickle their functions and classes (Ray's own processes are left alone)."""
    if sys.argv and sys.argv[0].endswith("default_worker.py"):
        _install()


def pytest_configure(config):
    _install()
    # distributed's fixtures (client, c, loop, s, a, b, cleanup ...), as its conftest gives them
    config.pluginmanager.register(importlib.import_module("distributed.utils_test"),
                                  "distributed-fixtures")


def _upstream_name(item) -> str:
    return f"{os.path.basename(str(item.path))}::{item.name}"


def _is_coroutine_test(item) -> bool:
    function = getattr(item, "function", None)
    # through every decorator (`@nodebug @gen_cluster(...) async def ...`)
    return function is not None and inspect.iscoroutinefunction(inspect.unwrap(function))


def pytest_runtest_logreport(report):
    """One JSON line per test phase, written at once: a run stopped midway (a
    test hung past its timeout) still tells what ran."""
    import json

    path = os.environ.get("DISTRIBUTED_SUITE_REPORT")
    if not path:
        return
    if report.skipped and isinstance(report.longrepr, tuple):
        message = report.longrepr[2]
    elif report.failed:
        message = getattr(report.longrepr, "reprcrash", None)
        message = message.message if message is not None else str(report.longrepr)[-300:]
    else:
        message = ""
    with open(path, "a") as out:
        out.write(json.dumps({"test": _report_name(report), "when": report.when,
                              "outcome": report.outcome, "message": message[:300]}) + "\n")


def _report_name(report) -> str:
    # The file comes from the location: for files outside the root directory the
    # node id and ``fspath`` leave it out, and tests of one name in two files
    # would count as one.
    return f"{os.path.basename(report.location[0])}::{report.nodeid.rpartition('::')[2]}"


def pytest_collection_modifyitems(config, items):
    import pytest

    kept, coroutine = [], []
    for item in items:
        (coroutine if _is_coroutine_test(item) else kept).append(item)
        reason = EXCLUDED.get(_upstream_name(item).split("[")[0])
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"excluded: {reason}"))
    config.hook.pytest_deselected(items=coroutine)
    items[:] = kept


# -- the command ------------------------------------------------------------------


def run(source: str, pytest_args=(), timeout: float = 3600, only=None) -> dict:
    """Run the suite on the checkout ``source``; outcomes per test.

    ``only``: run just these files of :data:`FILES` (by name, ``test_actor.py``).

    ``{"passed": [...], "failed": [(test, message)], "excluded": [(test, reason)],
    "skipped": [(test, reason)]}``.
    """
    files = [os.path.join(source, f) for f in FILES
             if only is None or os.path.basename(f) in only]
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        raise FileNotFoundError(f"not a distributed checkout: {missing[0]} is missing")
    with tempfile.TemporaryDirectory(prefix="distributed-suite-") as tmp:
        report = os.path.join(tmp, "report.jsonl")
        with open(os.path.join(tmp, "pytest.ini"), "w") as ini:
            ini.write("[pytest]\n")
        # Ray's workers import the test modules (their functions and classes travel
        # by reference), and with them distributed's internals: the stand-ins must be
        # in place there too, before anything imports them.
        with open(os.path.join(tmp, "sitecustomize.py"), "w") as hook:
            hook.write("import distributed_suite\n\ndistributed_suite.install_in_worker()\n")
        # Functions defined in the test modules travel by reference: the workers
        # (children of the test process's Ray) import them from the test folders.
        folders = sorted({os.path.dirname(f) for f in files})
        env = {**os.environ, "DISTRIBUTED_SUITE_REPORT": report,
               "PYTHONPATH": os.pathsep.join(
                   [tmp, COMPAT, os.path.dirname(os.path.abspath(__file__)), *folders])}
        subprocess.run(
            [sys.executable, "-m", "pytest", *files, "-p", "distributed_suite",
             "-p", "no:cacheprovider", "--noconftest", "-c", os.path.join(tmp, "pytest.ini"),
             "--rootdir", tmp, "-o", f"timeout={TEST_TIMEOUT}", "-o", "timeout_method=signal",
             "-W", "ignore", "-q", *pytest_args],
            cwd=tmp, env=env, timeout=timeout)
        return _outcomes(report)


def _outcomes(report: str) -> dict:
    """Each test's outcome from the phases the plugin wrote; a test whose call
    never reported (the run died in it) failed."""
    import json

    phases: dict[str, dict] = {}
    if os.path.exists(report):
        with open(report) as lines:
            for line in lines:
                entry = json.loads(line)
                phases.setdefault(entry["test"], {})[entry["when"]] = entry
    outcomes = {"passed": [], "failed": [], "excluded": [], "skipped": []}
    for name, seen in phases.items():
        problem = next((p for p in seen.values() if p["outcome"] == "failed"), None)
        skipped = next((p for p in seen.values() if p["outcome"] == "skipped"), None)
        if problem is not None:
            outcomes["failed"].append((name, f"{problem['when']}: {problem['message']}"))
        elif skipped is not None:
            reason = skipped["message"]
            kind = "excluded" if "excluded: " in reason else "skipped"
            outcomes[kind].append((name, re.sub(r"^.*?excluded: ", "", reason)))
        elif "call" in seen:
            outcomes["passed"].append(name)
        else:
            outcomes["failed"].append((name, "the run stopped during this test"))
    return outcomes


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    only = None
    if argv[1:2] == ["--only"]:  # --only test_actor.py,test_queues.py
        only, argv = set(argv[2].split(",")), argv[:1] + argv[3:]
    outcomes = run(argv[0], argv[1:], only=only)
    for kind in ("excluded", "skipped", "failed"):
        for name, why in outcomes[kind]:
            print(f"{kind.upper():9} {name}: {why}")
    counts = {kind: len(found) for kind, found in outcomes.items()}
    ran = counts["passed"] + counts["failed"]
    print(f"passed {counts['passed']}, failed {counts['failed']}, excluded "
          f"{counts['excluded']}, skipped by upstream marks {counts['skipped']}"
          + (f": {100 * counts['passed'] / ran:.1f}% of those run pass" if ran else ""))
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
