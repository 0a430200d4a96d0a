"""rayexec.utils_test's synchronous fixtures (``c``, ``client``) and the helpers
distributed's own tests submit (``varying``), on a test cluster in this process."""

import pytest

from rayexec.utils_test import (  # noqa: F401  (fixtures)
    c,
    client,
    cluster_fixture,
    inc,
    loop,
    map_varying,
    varying,
)


def test_c_is_the_client_fixture(c):  # noqa: F811
    assert c.submit(inc, 1).result() == 2


def test_varying_steps_through_its_items_across_processes(c):  # noqa: F811
    flaky = varying([ZeroDivisionError("first try"), 42])
    assert c.submit(flaky, retries=1, pure=False).result() == 42
    with pytest.raises(IndexError):
        c.submit(flaky, pure=False).result()
    func, [f, g] = map_varying([[1, 2], [3]])
    assert c.gather(c.map(func, [f, g, f], pure=False, batch_size=1)) in ([1, 3, 2], [2, 3, 1])


def test_cluster_blocks_do_not_share_published_datasets(loop):  # noqa: F811
    from rayexec import Client
    from rayexec.utils_test import cluster

    with cluster() as (s, _), Client(s["address"], loop=loop) as first:
        first.publish_dataset(1, name="left-over")
    with cluster() as (s, _), Client(s["address"], loop=loop) as fresh:
        assert "left-over" not in fresh.list_datasets()
