"""The asynchronous API: awaitable clients, futures, gather/scatter, client.loop."""

import asyncio

import pytest
from tornado.ioloop import IOLoop

from rayexec import Client, wait
from rayexec.asynchronous import sync


def inc(x):
    return x + 1


def test_async_client_in_asyncio(ray_cluster):
    async def main():
        async with Client(asynchronous=True) as c:
            assert c.status == "running"
            future = c.submit(inc, 1)
            assert await future == 2
            assert await c.gather([future, (future,)]) == [2, (2,)]
            [remote] = await c.scatter([10])
            assert await c.submit(inc, remote) == 11
            done, _ = await wait([future])
            assert future in done
            return c

    client = asyncio.run(main())
    assert client.status == "closed"


def fail(message):
    raise ValueError(message)


def test_a_future_of_an_async_client_gives_awaitables_on_its_loop(ray_cluster):
    # As distributed's: dask-ml writes `await future.result()` with an async client.
    async def main():
        async with Client(asynchronous=True) as c:
            future, failed = c.submit(inc, 1), c.submit(fail, "why")
            pending = future.result()
            assert asyncio.iscoroutine(pending)
            assert await pending == 2
            assert await future.exception() is None
            assert isinstance(await failed.exception(), ValueError)
            assert await failed.traceback() is not None
            with pytest.raises(ValueError, match="why"):
                await failed.result()
            slow = c.submit(__import__("time").sleep, 5, pure=False)
            with pytest.raises(TimeoutError):
                await slow.result(timeout=0.1)
            # Off the loop (a worker thread) the same call blocks, as there.
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, future.result) == 2

    asyncio.run(main())


def test_a_future_of_a_sync_client_blocks_in_another_event_loop(ray_cluster):
    client = Client()
    try:
        future = client.submit(inc, 1)
        assert client.loop is not None  # its own background loop, on another thread

        async def main():
            return future.result()

        assert asyncio.run(main()) == 2
    finally:
        client.close()


def test_await_client_then_close(ray_cluster):
    async def main():
        c = await Client(asynchronous=True)
        result = await c.submit(inc, 5)
        await c.close()
        return result, c.status

    assert asyncio.run(main()) == (6, "closed")


def test_async_client_started_explicitly(ray_cluster):
    async def main():
        c = Client(asynchronous=True)
        assert await c.start() is c
        result = await c.submit(inc, 1)
        await c.close()
        return result

    assert asyncio.run(main()) == 2


def test_async_client_must_be_awaited_before_use(ray_cluster):
    async def main():
        c = Client(asynchronous=True)
        with pytest.raises(RuntimeError, match="await"):
            c.submit(inc, 1)
        await c.close()
        return c.status

    assert asyncio.run(main()) == "closed"


def test_async_client_needs_a_running_loop(ray_cluster):
    # as distributed: outside a coroutine there is no loop for it to belong to
    with pytest.raises(RuntimeError, match="running event loop"):
        Client(asynchronous=True)


def test_sync_client_on_its_own_loop_gives_awaitables(client):
    # distributed: a synchronous client called from its loop's thread answers with
    # awaitables, where blocking would stop the loop
    async def main():
        x = await client.scatter(123)
        return await client.gather(client.submit(inc, x))

    assert client.sync(main) == 124


def test_sync_client_gives_awaitables_on_request(client):
    async def main():
        futures = await client.scatter([1, 2], asynchronous=True)
        return await client.gather(client.map(inc, futures), asynchronous=True)

    assert asyncio.run(main()) == [2, 3]


def test_works_from_a_tornado_ioloop(client):
    async def main():
        return await client.gather(client.submit(inc, 1), asynchronous=True)

    assert IOLoop(make_current=False).run_sync(main) == 2


def test_client_loop_is_a_running_ioloop(client):
    loop = client.loop
    assert isinstance(loop, IOLoop)
    assert loop.asyncio_loop.is_running()
    seen = []

    async def collect():
        seen.append(await client.gather(client.submit(inc, 41), asynchronous=True))
        return seen[-1]

    assert sync(loop, collect) == 42
    assert client.sync(collect) == 42


def test_gather_of_plain_values_and_tuples(client):
    f = client.submit(inc, 1)
    assert client.gather(3) == 3
    assert client.gather((f, f)) == (2, 2)
    assert client.submit(lambda t: t[0] + t[1], (f, f)).result() == 4
