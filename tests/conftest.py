"""One Ray for the whole test session: two nodes of one CPU each, like distributed's
LocalCluster on a 2-core machine (2 workers x 1 thread).  The second node also
has a custom resource, ``special: 1``, for placement tests.

Tests that need a cluster of another shape start it in a subprocess (Ray is one
per process) and stop it themselves.
"""

import os
import sys

import pytest

SCRIPTS = os.path.join(os.path.dirname(__file__), "scripts")
# tests/ and its folders (one per wing of the package): pytest imports a test module by
# its bare name from its own folder, so Ray's workers need every folder on their path
TEST_FOLDERS = [os.path.dirname(os.path.abspath(__file__))] + [
    os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    for name in sorted(os.listdir(os.path.dirname(os.path.abspath(__file__))))
    if name not in ("scripts", "__pycache__")
    and os.path.isdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), name))]


def session_auth():
    """Ray's auth mode of the session cluster, for a process that connects to it.

    The session cluster is started without token authentication (RAY_AUTH_MODE
    unset); a process that turned token mode on could not be reached by its
    workers, so it is told the session's mode explicitly.
    """
    return {"RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}


@pytest.fixture(scope="session")
def ray_cluster():
    import ray
    from ray.cluster_utils import Cluster

    # Functions defined in test modules are pickled by reference; the workers
    # (children of the raylets started here) must be able to import them.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (*TEST_FOLDERS, os.environ.get("PYTHONPATH")) if p)
    # Ray's wait for a starting node to register is too short on a loaded machine.
    os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")
    cluster = start_with_retries(lambda: _session_cluster(Cluster))
    ray.init(address=cluster.address, logging_level="WARNING")
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def _session_cluster(Cluster):
    from rayexec.deploy.local_cluster import free_port

    # Each node's dashboard agent would take Ray's fixed default port (52365), which
    # another Ray on the machine may hold.
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": 400 * 2**20, "include_dashboard": False,
        "dashboard_agent_listen_port": free_port()})
    cluster.add_node(num_cpus=1, object_store_memory=400 * 2**20, resources={"special": 1},
                     dashboard_agent_listen_port=free_port())
    return cluster


def start_with_retries(start, attempts=3):
    """``start()``, again after a failure, ``attempts`` times at most.

    On a loaded machine a Ray node gives up when its raylet has not registered
    within Ray's fixed 30 s, leaving the processes it started running; those
    (children of this process that the attempt started) are ended before the
    next attempt.
    """
    import psutil

    me = psutil.Process()
    for attempt in range(1, attempts + 1):
        before = {p.pid for p in me.children(recursive=True)}
        try:
            return start()
        except Exception as exc:
            for leftover in me.children(recursive=True):
                if leftover.pid not in before:
                    try:
                        leftover.kill()
                    except psutil.Error:
                        pass
            if attempt == attempts:
                raise
            print(f"test cluster start failed ({str(exc).splitlines()[0]}); starting it again",
                  file=sys.stderr)


@pytest.fixture
def client(ray_cluster):
    """A rayexec Client on the session's Ray; closed (its work cancelled) after the test."""
    from rayexec import Client

    with Client() as c:
        yield c


def actor_node(actor) -> str:
    """The id of the node the Ray actor ``actor`` runs on, as it says itself."""
    import ray

    return ray.get(actor.__ray_call__.remote(
        lambda self: ray.get_runtime_context().get_node_id()), timeout=60)


def run_script(*args, timeout=240, env=None):
    """Run a Python script from tests/scripts in a fresh process; its CompletedProcess.

    ``env`` adds to this process's environment; a value of None removes the variable.
    """
    import subprocess

    full_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, args[0]), *args[1:]],
                          capture_output=True, text=True, timeout=timeout, env=full_env)


def json_report(stdout: str):
    """The JSON report a test script prints as its last line of JSON (Ray's workers
    may print after it)."""
    import json

    for line in reversed(stdout.splitlines()):
        if line.startswith(("{", "[")):
            try:
                return json.loads(line)
            except ValueError:
                continue
    raise AssertionError("the script printed no JSON report:\n" + stdout[-3000:])


COMPAT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "compat")


def run_library_tests_on_shim(tmp_path, tests, markers, extra_path=(), extra_args=(),
                              timeout=400) -> dict:
    """Run a library's own test files in a fresh pytest, ``import distributed``
    resolving to the shim; the counts of pytest's summary line (``{"passed": 14}``).

    ``markers`` declares the library's marks (a ``pytest.ini`` ``markers`` entry).
    The run fails unless no test failed or errored and the shim really served it.
    """
    import re
    import subprocess

    (tmp_path / "pytest.ini").write_text(f"[pytest]\nmarkers =\n    {markers}\n")
    # A plugin that fails the run unless `import distributed` is the shim there.
    (tmp_path / "shimcheck.py").write_text(
        "import distributed, rayexec\n"
        "assert distributed.Client is rayexec.Client, distributed.__file__\n")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([COMPAT, *extra_path, str(tmp_path)])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider", *extra_args,
         "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
         "-p", "shimcheck", "-o", "timeout=120"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    # pytest's summary line ("14 passed, 2 skipped in 3.10s"), the last of its kind:
    # Ray's workers may print after it
    summary = next((line for line in reversed(done.stdout.splitlines())
                    if re.search(r"\d+ (passed|failed|skipped|errors?)\b.* in [\d.]+s", line)),
                   "")
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}
    assert counts.get("failed", 0) == 0 and counts.get("error", 0) == 0, summary
    return counts
