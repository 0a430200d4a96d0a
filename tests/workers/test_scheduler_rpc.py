"""client.scheduler's calls, awaited as libraries await them (xgboost.dask places its
training with ``await client.scheduler.who_has(keys=...)``), and the client's run
methods giving awaitables on its own event loop, as distributed's do."""

import pytest

from rayexec import wait


def test_the_scheduler_answers_who_has_and_identity_when_awaited(client):
    futures = client.map(lambda x: x + 1, range(3), pure=False, batch_size=1)
    wait(futures)
    keys = [f.key for f in futures]

    async def ask():
        return (await client.scheduler.who_has(keys=keys),
                await client.scheduler.identity())

    who_has, identity = client.sync(ask)
    assert set(who_has) == set(keys)
    assert all(isinstance(where, tuple) and where for where in who_has.values())
    assert {w for where in who_has.values() for w in where} <= set(identity["workers"])
    assert set(identity["workers"]) == set(client.scheduler_info()["workers"])


def test_a_scheduler_call_without_counterpart_names_itself(client):
    with pytest.raises(AttributeError, match="client.scheduler.retire_workers: .* no "
                                             "counterpart on Ray"):
        client.scheduler.retire_workers()
    assert client.scheduler.address == client.scheduler_info()["address"]


def test_run_and_run_on_scheduler_give_awaitables_on_the_clients_loop(client):
    async def both():
        return await client.run(abs, -1), await client.run_on_scheduler(abs, -2)

    on_each, on_head = client.sync(both)
    assert set(on_each.values()) == {1} and on_head == 2
    assert client.run_on_scheduler(abs, -3) == 3  # elsewhere: a plain call
