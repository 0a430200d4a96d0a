"""distributed's memory_limit as Ray node sizes."""

import pytest

from rayexec.deploy.memory import (
    MIN_OBJECT_STORE,
    memory_limit_bytes,
    node_sizes,
    total_memory,
)


def test_sizes_fractions_and_auto():
    assert memory_limit_bytes("1GB") == 10**9
    assert memory_limit_bytes("2 GiB") == 2 * 2**30
    assert memory_limit_bytes(3 * 2**30) == 3 * 2**30
    assert memory_limit_bytes(0.5) == total_memory() // 2
    assert memory_limit_bytes("auto", n_workers=4) == total_memory() // 4
    assert memory_limit_bytes(None) is None and memory_limit_bytes(0) is None


def test_each_node_gets_its_memory_and_a_store_within_it():
    memory, store = node_sizes("1GB", n_workers=2, store_share=4 * 2**30)
    assert memory == 10**9 and store == 3 * 10**8
    assert node_sizes("100MB", 1, 2**30)[1] == MIN_OBJECT_STORE  # Ray's minimum


@pytest.mark.parametrize("bad, error", [("lots", ValueError), (-5, ValueError),
                                        ([1], TypeError), (True, TypeError)])
def test_bad_memory_limit_is_refused_naming_it(bad, error):
    with pytest.raises(error, match="memory_limit"):
        memory_limit_bytes(bad)
