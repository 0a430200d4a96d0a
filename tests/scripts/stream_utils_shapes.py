"""distributed.utils_test through the shim, in a process without Ray: the test
cluster is started on first use and reshaped to each test's ``nthreads``."""

import distributed
from distributed import Client
from distributed.utils_test import cluster, gen_cluster, inc

import rayexec

assert distributed.Client is rayexec.Client


def shape_of(c, workers):
    threads = c.nthreads()
    return [threads[w.address] for w in workers]


@gen_cluster(client=True)
async def default_shape(c, s, a, b):
    assert shape_of(c, [a, b]) == [1, 2], c.nthreads()
    assert (a.nthreads, b.nthreads) == (1, 2)
    assert await c.submit(inc, 1) == 2


@gen_cluster(client=True, nthreads=[("127.0.0.1", 1)] * 3)
async def three_single_threaded(c, s, a, b, d):
    assert shape_of(c, [a, b, d]) == [1, 1, 1]
    assert sorted(c.nthreads().values()) == [1, 1, 1], "a worker from before is left over"


@gen_cluster(nthreads=[("127.0.0.1", 1)])
async def no_client(s, a):
    assert a.nthreads == 1 and list(s.workers) == [a.address]


default_shape()
three_single_threaded()
default_shape()
with cluster(nworkers=2) as (s, workers):
    with Client(s["address"]) as client:
        assert sorted(client.nthreads().values()) == [1, 1]
        assert sorted(client.nthreads()) == sorted(w["address"] for w in workers)
        assert client.submit(inc, 1).result() == 2
no_client()
print("shapes ok")
