"""The seed documents' examples, run as doctests through the shim in fresh processes.

001: distributed's Executor walkthrough; 002: the first dask.distributed (Scheduler,
Worker, Client.get, set_collection/get_collection); 004: Pool/RemoteData and
distributed.dask.get.  Each script is a doctest of the seed's own examples.
"""

import pytest
from conftest import run_script, session_auth

from rayexec.deploy.shim import compat_dir

SHIM = {"PYTHONPATH": compat_dir()}


def check(result):
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


@pytest.mark.parametrize("seed", ["compat_seed_001.py", "compat_seed_004.py"])
def test_seed_on_running_cluster(seed, ray_cluster):
    check(run_script(seed, ray_cluster.address, env={**SHIM, **session_auth()}, timeout=240))


def test_seed_002_starts_its_own_scheduler_and_worker():
    check(run_script("compat_seed_002.py", env=SHIM, timeout=240))
