"""Client() with no address starts a local Ray shaped like distributed's LocalCluster."""

import json

from conftest import run_script


def test_n_workers_threads_per_worker_shape_the_cluster():
    out = run_script("local_shape.py")
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"nthreads": [1, 1], "n_workers": 2, "total_threads": 2, "result": 3}


def test_unreachable_address_fails_fast_naming_it():
    import pytest

    from rayexec import Client

    with pytest.raises(OSError, match="127.0.0.1:1"):
        Client("tcp://127.0.0.1:1", timeout=2)


def test_address_of_another_cluster_is_refused_not_ignored(ray_cluster):
    import socket

    import pytest

    from rayexec import Client

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{port}"):
            Client(f"127.0.0.1:{port}", timeout=2)
    finally:
        listener.close()
