"""futures_of, and every function taking "futures or collections", find the futures of
persisted dask collections held in lists, tuples and dicts -- as distributed does."""

import time

import dask.array as da
import pytest

from rayexec import futures_of, progress, wait


def _slowly(block):
    time.sleep(0.3)
    return block


def persisted(client, blocks=4):
    """A dask array whose blocks are still being computed on the cluster."""
    return client.persist(da.ones(blocks, chunks=1).map_blocks(_slowly, dtype=float))


def test_futures_of_looks_inside_collections_inside_containers(client):
    y = persisted(client)
    f = client.submit(sum, [1, 2])
    own = futures_of(y)
    assert len(own) == 4
    assert futures_of([y]) == own
    assert futures_of({"a": (y, [f]), "b": y}) == [*own, f]  # each future once, in order
    assert futures_of((1, "x", None)) == []


def test_wait_on_a_list_of_collections_waits_for_them(client):
    y = persisted(client)
    done, not_done = wait([y])
    assert len(done) == 4 and not not_done
    assert all(f.status == "finished" for f in futures_of(y))
    done, not_done = wait({"arrays": [persisted(client, 2)]})
    assert len(done) == 2 and not not_done


def test_progress_on_a_collection_waits_and_draws_its_tasks(client, capsys):
    y = persisted(client)
    progress(y)
    assert all(f.done() for f in futures_of(y))
    assert "[" + "#" * 40 + "] | 100% Completed" in capsys.readouterr().out


def test_cancel_and_who_has_take_collections_in_containers(client):
    y = persisted(client)
    wait(y)
    assert sorted(client.who_has([y])) == sorted(f.key for f in futures_of(y))
    z = persisted(client)
    client.cancel([z])
    assert all(f.status == "cancelled" for f in futures_of(z))


def test_progress_refuses_an_unknown_grouping():
    with pytest.raises(ValueError, match="`group_by` should be 'spans', 'prefix', or a Callable"):
        progress(None, group_by="incorrect")
