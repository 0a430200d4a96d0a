"""A client that forks while another thread is inside gRPC does not crash: Ray
starts its processes with fork() while rayexec probes a starting head."""

import pytest
from conftest import run_script

GRPC_FORK_TROUBLE = ("fork_posix", "Check failed", "epoll_wait error")


@pytest.mark.parametrize("mode", ["probe-first", "client-first"])
def test_forks_beside_a_grpc_probe_leave_grpc_and_the_children_alone(mode):
    done = run_script("grpc_forks.py", mode, env={"GRPC_ENABLE_FORK_SUPPORT": None})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-2:] == ["children see None", "done"], done.stdout
    assert [t for t in GRPC_FORK_TROUBLE if t in done.stderr] == [], done.stderr[-3000:]


def test_a_fork_support_setting_of_the_users_own_is_kept():
    done = run_script("grpc_forks.py", "probe-first", env={"GRPC_ENABLE_FORK_SUPPORT": "false"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "children see false" in done.stdout
