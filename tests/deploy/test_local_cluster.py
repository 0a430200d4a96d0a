"""LocalCluster: a Ray cluster of node processes on this machine, joinable at its port."""

import os
import signal
import time

import pytest
from conftest import run_script

from rayexec.deploy.local_cluster import LocalCluster, free_port


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_groups(pgids):
    """Clean up after a failed run: end the node process groups the script started."""
    for pgid in pgids:
        if group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


def test_local_cluster_serves_clients_and_stops_its_nodes():
    port = free_port()
    result = run_script("compat_local_cluster.py", str(port), timeout=240)
    pids = [int(p) for line in result.stdout.splitlines() if line.startswith("PIDS")
            for p in line.split()[1:]]
    try:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        assert "OTHER 3" in result.stdout and "OK" in result.stdout
        assert len(pids) == 2
        deadline = time.monotonic() + 30
        while any(map(group_alive, pids)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not any(map(group_alive, pids)), "Ray node processes outlived close()"
    finally:
        kill_groups(pids)


@pytest.mark.parametrize("bad", [{"n_workers": -1}, {"threads_per_worker": "2"}])
def test_local_cluster_refuses_bad_shapes(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        LocalCluster(**bad)
