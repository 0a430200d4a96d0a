"""dask finds the rayexec client: default scheduler, scheduler=client / client.get, config."""

import os

import dask
import pytest
from dask import delayed

from rayexec import Client


def where():
    return os.getpid()


def runs_on_cluster(**compute_kwargs) -> bool:
    return delayed(where)().compute(**compute_kwargs) != os.getpid()


def test_compute_runs_on_the_default_client(client):
    assert runs_on_cluster()
    assert dask.config.get("dataframe.shuffle.method") == "tasks"


def test_scheduler_client_and_client_get(client):
    assert runs_on_cluster(scheduler=client)
    assert runs_on_cluster(scheduler=client.get)
    with dask.config.set(scheduler=client.get):
        assert runs_on_cluster()
    # asking for another scheduler still works while the client is alive
    assert not runs_on_cluster(scheduler="sync")


def test_closing_the_last_client_restores_dask(ray_cluster):
    before = dask.config.get("scheduler", None)
    with Client():
        assert runs_on_cluster()
    assert dask.config.get("scheduler", None) == before
    assert not runs_on_cluster()


def test_closing_the_newest_client_hands_dask_back_to_the_older(ray_cluster):
    with Client() as older:
        newer = Client()
        assert dask.config.get("scheduler") is newer
        newer.close()
        assert dask.config.get("scheduler") is older
        assert runs_on_cluster()
    assert not runs_on_cluster()


def test_a_client_not_set_as_default_leaves_dask_alone(ray_cluster):
    with Client(set_as_default=False) as c:
        assert not runs_on_cluster()
        assert runs_on_cluster(scheduler=c)


def test_dask_persist_goes_through_client_persist(client):
    x = delayed(where)()
    (persisted,) = dask.persist(x)
    from rayexec import futures_of

    assert futures_of(persisted)
    assert persisted.compute() != os.getpid()


@pytest.mark.parametrize("name", ["sync", "threads"])
def test_named_schedulers_are_untouched(client, name):
    assert delayed(sum)([1, 2]).compute(scheduler=name) == 3


@pytest.mark.parametrize("method", ["get", "compute", "persist"])
def test_signatures_match_distributed(method):
    import inspect

    distributed = pytest.importorskip("distributed")
    ours = inspect.signature(getattr(Client, method))
    theirs = inspect.signature(getattr(distributed.Client, method))
    assert [(p.name, p.default) for p in ours.parameters.values()] == [
        (p.name, p.default) for p in theirs.parameters.values()]
