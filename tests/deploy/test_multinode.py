"""Real multi-node clusters: ``ray start --head`` and ``ray start --address`` on
this machine, with token authentication, started and stopped by the test.

The processes get free ports and their own temporary directory, so other Ray
clusters on the machine are not disturbed; they are stopped by PID.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
from conftest import json_report, run_script

RAY = os.path.join(os.path.dirname(sys.executable), "ray")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_start(args, env, log):
    return subprocess.Popen([RAY, "start", "--block", "--disable-usage-stats",
                             "--node-ip-address=127.0.0.1", "--object-store-memory=150000000",
                             f"--dashboard-agent-listen-port={free_port()}", *args],
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process):
    """SIGTERM the ``ray start --block`` process: it stops the node's processes it
    started; anything left in its session (process group) is killed after."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_for_nodes(address, env, n, timeout=60):
    code = ("import ray, sys, time\n"
            f"ray.init(address={address!r}, logging_level='ERROR')\n"
            f"deadline = time.time() + {timeout}\n"
            f"while sum(x['Alive'] for x in ray.nodes()) < {n} and time.time() < deadline:\n"
            "    time.sleep(0.5)\n"
            f"sys.exit(0 if sum(x['Alive'] for x in ray.nodes()) >= {n} else 1)\n")
    return subprocess.run([sys.executable, "-c", code], env=env, timeout=timeout + 60,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def ray_start_cluster():
    """A head (1 CPU) and a worker (2 CPUs, ``ssd: 1``) with token authentication on."""
    tmp = tempfile.mkdtemp(prefix="rx-")
    token_path = os.path.join(tmp, "token")
    with open(token_path, "w") as f:
        f.write(os.urandom(16).hex())
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=token_path)
    port = free_port()
    address = f"127.0.0.1:{port}"
    processes = []
    log = open(os.path.join(tmp, "ray.log"), "w")
    try:
        processes.append(ray_start(
            ["--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false",
             f"--ray-client-server-port={free_port()}", f"--temp-dir={tmp}/head"], env, log))
        processes.append(ray_start(
            [f"--address={address}", "--num-cpus=2", '--resources={"ssd": 1}',
             f"--temp-dir={tmp}/worker"], env, log))
        ready = wait_for_nodes(address, env, 2)
        assert ready.returncode == 0, ready.stderr[-2000:]
        yield {"address": address, "env": env, "tmp": tmp}
    finally:
        for process in reversed(processes):
            stop(process)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_client_on_a_ray_start_cluster(ray_start_cluster):
    env = ray_start_cluster["env"]
    result = run_script("placement_remote.py", f"tcp://{ray_start_cluster['address']}",
                        env=env, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json_report(result.stdout)
    assert found == {"n_workers": 2, "total_threads": 3, "nthreads": [1, 2],
                     "pinned": [True, True], "two_cpus": True, "ssd": True, "run": True,
                     "who_has": True, "locality": True, "put_on": True, "too_big": True}


def test_a_client_without_the_token_is_refused(ray_start_cluster):
    home = os.path.join(ray_start_cluster["tmp"], "home")  # no ~/.ray/auth_token there
    os.makedirs(home, exist_ok=True)
    env = {k: v for k, v in ray_start_cluster["env"].items() if k != "RAY_AUTH_TOKEN_PATH"}
    env.update(HOME=home, RAY_AUTH_TOKEN="0" * 32)
    code = ("import rayexec, sys\n"
            f"rayexec.Client({ray_start_cluster['address']!r}, timeout=20)\n"
            "print('connected')\n")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode != 0 and "connected" not in result.stdout
    assert "token" in result.stderr.lower() or "auth" in result.stderr.lower()
    assert time.monotonic() - started < 180


def test_placement_on_nodes_of_different_shapes():
    """A Cluster with a GPU node, a 2-CPU node and a plain head (in its own process)."""
    result = run_script("placement_shapes.py", timeout=280)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json_report(result.stdout)
    assert found == {"nthreads": [1, 1, 2], "gpu": True, "gpu_ids": True, "two_cpus": True,
                     "label_selector": True, "run": True, "locality": True,
                     "dead_pin_fails": True, "dead_pin_error": "PlacementError",
                     "dead_pin_refused": True, "soft_pin_survives": True}
