"""rapidz (a streamz fork; not on PyPI) on rayexec through the shim.

rapidz cannot be installed from a package index, so this runs only when a
checkout is at hand: ``RAPIDZ_SOURCE=/path/to/rapidz-checkout pytest
tests/test_rapidz.py``.  It runs rapidz's own dask tests (``rapidz.dask`` and the
``rapidz.parallel`` dask backend) with ``import distributed`` resolving to the shim.
"""

import os
import subprocess
import sys

import pytest
from conftest import COMPAT, run_library_tests_on_shim

SOURCE = os.environ.get("RAPIDZ_SOURCE")

pytestmark = pytest.mark.skipif(
    not SOURCE or not os.path.isdir(os.path.join(SOURCE or "", "rapidz")),
    reason="set RAPIDZ_SOURCE to a rapidz checkout to run rapidz's dask tests")


def test_rapidz_own_dask_tests_pass_on_the_shim(tmp_path):
    tests = [os.path.join(SOURCE, "rapidz", "tests", name)
             for name in ("test_dask.py", "test_parallel_dask.py")]
    # --noconftest: rapidz's conftest uses a pytest hook signature newer pytest refuses;
    # it only adds --runslow, and without it the slow tests simply run.
    counts = run_library_tests_on_shim(tmp_path, tests, "slow: rapidz's mark",
                                       extra_path=[SOURCE], extra_args=["--noconftest"],
                                       timeout=600)
    assert counts.get("passed", 0) >= 20, counts


def test_rapidz_pipeline_from_its_docs():
    script = (
        "from distributed import Client\n"
        "from rapidz import Stream\n"
        "client = Client(n_workers=1, threads_per_worker=2, dashboard_address=None)\n"
        "def inc(x):\n"
        "    return x + 1\n"
        "source = Stream()\n"
        "out = source.scatter().map(inc).buffer(8).gather().sink_to_list()\n"
        "for i in range(10):\n"
        "    source.emit(i)\n"
        "import time\n"
        "deadline = time.time() + 60\n"
        "while len(out) < 10 and time.time() < deadline:\n"
        "    time.sleep(0.01)\n"
        "print(out)\n"
        "client.close()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([COMPAT, SOURCE])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str(list(range(1, 11)))
