"""Token authentication on a real `ray start` cluster: with the token in, without it out."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import json_report, run_script


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def token_cluster(tmp_path_factory):
    """A `ray start --head` on loopback with token authentication; the token file."""
    home = tmp_path_factory.mktemp("home")
    token_file = home / "token"
    token_file.write_text(os.urandom(16).hex())
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_file)}
    ray_cli = os.path.join(os.path.dirname(sys.executable), "ray")
    proc = subprocess.Popen(
        [ray_cli, "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
         "--num-cpus=1", "--include-dashboard=false", "--disable-usage-stats", "--block"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)  # its own process group: every process it starts is ours
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        else:
            pytest.fail("ray start did not come up")
        yield f"127.0.0.1:{port}", token_file
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _connect(address, tmp_path, **env):
    # A HOME without ~/.ray/auth_token, so only what the test passes counts.
    out = run_script("connect_report.py", address, timeout=180,
                     env={"HOME": str(tmp_path), "RAY_AUTH_MODE": None,
                          "RAY_AUTH_TOKEN": None, "RAY_AUTH_TOKEN_PATH": None, **env})
    assert out.returncode == 0, out.stderr[-3000:]
    return json_report(out.stdout)


def test_client_with_the_token_connects(token_cluster, tmp_path):
    address, token_file = token_cluster
    report = _connect(address, tmp_path, RAY_AUTH_TOKEN=token_file.read_text())
    assert report == {"connected": True, "result": 3}
    report = _connect(address, tmp_path, RAY_AUTH_TOKEN_PATH=str(token_file))
    assert report == {"connected": True, "result": 3}


def test_client_without_the_token_is_refused_and_told_how(token_cluster, tmp_path):
    address, _ = token_cluster
    report = _connect(address, tmp_path, RAY_AUTH_TOKEN="not-the-token")
    assert not report["connected"]
    assert address in report["error"]
    assert "RAY_AUTH_TOKEN" in report["error"]


def test_a_joining_node_is_told_the_heads_authentication_mode(token_cluster, ray_cluster):
    # A node started in token mode next to a head without it (a token file lying
    # around was enough) refused the others' requests and the cluster hung.
    import ray

    from rayexec.deploy.addresses import asks_for_token

    address, _ = token_cluster
    assert asks_for_token(address) is True
    assert asks_for_token(ray.get_runtime_context().gcs_address) is False
