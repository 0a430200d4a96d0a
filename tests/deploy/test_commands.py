"""dscheduler / dcenter / dworker and rayexec scheduler / worker / run / shim.

The cluster commands start real Ray nodes (``ray start --block``) on free ports;
every process a test starts is stopped by the test, and it checks that no Ray
process of that cluster is left.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import run_script

from rayexec.deploy.commands import compat_dir, parse_resources
from rayexec.deploy.local_cluster import free_port

BIN = os.path.dirname(sys.executable)


class Command:
    """A command running in the background, its output collected line by line."""

    def __init__(self, *argv, env=None):
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **(env or {})})
        self.lines = []
        self._new = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self._new:
                self.lines.append(line.rstrip("\n"))
                self._new.notify_all()

    def wait_for(self, pattern, timeout=120):
        deadline = time.monotonic() + timeout
        with self._new:
            while True:
                for line in self.lines:
                    match = re.search(pattern, line)
                    if match:
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"no line matching {pattern!r}:\n" + self.text())
                self._new.wait(min(left, 1))

    def text(self):
        return "\n".join(self.lines)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def ray_processes(port):
    """PIDs of Ray processes of the cluster whose head listens at ``port``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "ray" in cmdline and re.search(rf"[:=]{port}\b", cmdline):
            found.append(int(pid))
    return found


def assert_all_stopped(port, timeout=30):
    deadline = time.monotonic() + timeout
    while ray_processes(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = ray_processes(port)
    for pid in left:  # clean up, then fail
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"Ray processes of port {port} still running: {left}"


def test_dscheduler_dworker_executor_and_ctrl_c(tmp_path):
    port = free_port()
    scheduler_file = str(tmp_path / "scheduler.json")
    scheduler = Command(os.path.join(BIN, "dscheduler"), "--port", str(port),
                        "--scheduler-file", scheduler_file, "--host", "127.0.0.1")
    workers = []
    try:
        line = scheduler.wait_for(rf"Start scheduler at ([\d.]+):{port}$")
        assert line
        # dask worker's flags: the scheduler file, a memory limit, a name
        workers.append(Command(os.path.join(BIN, "dworker"), "--scheduler-file", scheduler_file,
                               "--nthreads", "1", "--memory-limit", "1GB", "--name", "w1"))
        workers.append(Command(sys.executable, "-m", "rayexec", "worker", f"127.0.0.1:{port}",
                               "--nthreads", "1"))
        for worker in workers:
            worker.wait_for(r"^Start worker at\s+[\d.]+:\d+$")
        workers[0].wait_for(rf"^Registered with scheduler at:\s+[\d.]+:{port}$")
        workers[1].wait_for(rf"^Registered with scheduler at:\s+127\.0\.0\.1:{port}$")
        # another process connects with the 2015 name and runs work on the two workers
        result = run_script("compat_executor.py", f"127.0.0.1:{port}", timeout=180,
                            env={"RAY_AUTH_MODE": None, "PYTHONPATH": compat_dir()})
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        assert "nthreads [1, 1]" in result.stdout and "result 11" in result.stdout
        assert "memory_limits [1000000000, " in result.stdout  # --memory-limit 1GB
        assert workers[0].stop(signal.SIGTERM) == 0
        assert workers[1].stop(signal.SIGINT) == 0
        assert scheduler.stop(signal.SIGINT) == 0  # Ctrl-C
    finally:
        for command in [*workers, scheduler]:
            command.stop(signal.SIGKILL)
    assert "Stopping" in scheduler.text()
    assert_all_stopped(port)


def test_dask_scheduler_worker_and_client_started_together_through_the_shim(tmp_path):
    """``dask scheduler &; dask worker --scheduler-file ... &; python client.py``, as
    scripts start a cluster: with the shim, ``dask scheduler``/``dask worker`` start
    Ray nodes; the worker waits for the scheduler file, and the client for the
    scheduler, to come up, as distributed's do."""
    port = free_port()
    scheduler_file = str(tmp_path / "scheduler.json")
    shim = {"PYTHONPATH": compat_dir()}
    scheduler = Command(sys.executable, "-m", "dask", "scheduler", "--no-dashboard",
                        "--port", str(port), "--scheduler-file", scheduler_file, env=shim)
    worker = Command(sys.executable, "-m", "dask", "worker", "--scheduler-file",
                     scheduler_file, "--nthreads", "1", env=shim)
    client = Command(sys.executable, "-c",
                     "import sys; from distributed import Client\n"
                     "with Client(sys.argv[1], timeout=120) as c:\n"
                     "    c.wait_for_workers(2, timeout=120)\n"
                     "    print('RESULT', c.submit(sum, [1, 2]).result())",
                     f"tcp://127.0.0.1:{port}", env=shim)
    try:
        assert client.process.wait(240) == 0, client.text()[-3000:]
        assert "RESULT 3" in client.text()
        assert worker.stop(signal.SIGTERM) == 0, worker.text()[-2000:]
        assert scheduler.stop(signal.SIGINT) == 0, scheduler.text()[-2000:]
    finally:
        for command in (client, worker, scheduler):
            command.stop(signal.SIGKILL)
    assert "warn" not in (scheduler.text() + worker.text()).lower()  # dask's CLI is quiet
    assert_all_stopped(port)


def test_dcenter_starts_on_its_port_and_stops():
    port = free_port()
    center = Command(os.path.join(BIN, "dcenter"), "--port", str(port), "--nthreads", "1")
    try:
        center.wait_for(rf"^Start center at [\d.]+:{port}$")
        assert center.stop(signal.SIGTERM) == 0
    finally:
        center.stop(signal.SIGKILL)
    assert_all_stopped(port)


def test_worker_fails_clearly_without_scheduler():
    port = free_port()
    # dask worker's --death-timeout: how long to wait for a scheduler to answer
    worker = Command(os.path.join(BIN, "dworker"), f"127.0.0.1:{port}", "--death-timeout", "2")
    try:
        assert worker.process.wait(120) == 1
    finally:
        worker.stop(signal.SIGKILL)
    assert f"cannot connect to a Ray cluster at '127.0.0.1:{port}'" in worker.text()
    assert_all_stopped(port)


def test_dcenter_default_port_in_help():
    out = subprocess.run([os.path.join(BIN, "dcenter"), "--help"], capture_output=True,
                         text=True, timeout=60).stdout
    assert "default 8787" in out
    out = subprocess.run([os.path.join(BIN, "dscheduler"), "--help"], capture_output=True,
                         text=True, timeout=60).stdout
    assert "default 8786" in out


@pytest.mark.parametrize("command", ["dscheduler", "dworker"])
@pytest.mark.parametrize("flag, instead", [("--interface", "--host"),
                                           ("--preload-nanny", "runtime environment"),
                                           ("--pid-file", "$!")])
def test_dask_flags_without_a_ray_meaning_say_what_to_use(command, flag, instead):
    done = subprocess.run([os.path.join(BIN, command), flag, "x"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    line, = done.stderr.strip().splitlines()
    assert line.startswith(f"{command}: {flag} is not supported on Ray: use ") and instead in line


def test_version_and_dask_flags_in_help():
    done = subprocess.run([os.path.join(BIN, "dworker"), "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "rayexec" in done.stdout and "ray" in done.stdout
    help_text = subprocess.run([os.path.join(BIN, "dworker"), "--help"], capture_output=True,
                               text=True, timeout=60).stdout
    for flag in ("--host", "--nworkers", "--nthreads", "--memory-limit", "--name",
                 "--scheduler-file", "--resources", "--version"):
        assert flag in help_text
    help_text = subprocess.run([os.path.join(BIN, "dscheduler"), "--help"],
                               capture_output=True, text=True, timeout=60).stdout
    for flag in ("--host", "--port", "--scheduler-file", "--dashboard-address", "--version"):
        assert flag in help_text


def test_a_port_in_use_is_one_line():
    import socket

    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([os.path.join(BIN, "dscheduler"), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == (f"scheduler: port {port} is already in use: choose "
                                   "another with --port, or 0 for any free port")


def test_parse_resources():
    assert parse_resources("GPU=1,special=2") == {"GPU": 1.0, "special": 2.0}
    assert parse_resources(None) is None
    with pytest.raises(ValueError, match="NAME=AMOUNT"):
        parse_resources("GPU")
    with pytest.raises(ValueError, match="NAME=AMOUNT"):
        parse_resources("GPU=many")
