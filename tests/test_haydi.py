"""Haydi's DistributedContext on rayexec, through the shim.

Haydi is Python 2 code and cannot be installed here, so ``scripts/stream_haydi.py``
reproduces its calls to distributed (``LocalCluster(ip=, scheduler_port=,
n_workers=, threads_per_worker=, dashboard_address=)``, ``Client(cluster)``,
``Client("tcp://ip:port")``, ``ncores()``, ``scatter(..., broadcast=True)``,
``map``, ``as_completed`` on a second thread, ``future.cancel()``) and checks
the pipeline's results.  Each run starts its own cluster in a subprocess.
"""

import os
import re

from conftest import run_script

from rayexec import Client

COMPAT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "compat")
SHIM = {"PYTHONPATH": COMPAT}


def _check(done, workers):
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    match = re.search(r"workers=(\d+) jobs=(\d+) cancelled=(\d+) ok", done.stdout)
    assert match, done.stdout[-2000:]
    assert int(match.group(1)) == workers
    # every future Haydi made was cancelled by its stop(), finished ones included
    assert int(match.group(3)) == int(match.group(2)) > 0


def test_spawn_workers():
    # Haydi's documented DistributedContext(spawn_workers=4): four Ray nodes
    _check(run_script("stream_haydi.py", "spawn", "4", env=SHIM, timeout=300), workers=4)


def test_connect_by_ip_and_port():
    _check(run_script("stream_haydi.py", "connect", env=SHIM, timeout=300), workers=2)


def test_client_accepts_a_host_port_tuple(ray_cluster):
    host, port = ray_cluster.address.rsplit(":", 1)
    with Client((host, int(port))) as client:
        assert client.submit(sum, [1, 2]).result() == 3
