"""Bad input gets a clear error that names what was wrong -- never a hang."""

import re
import threading
import time

import pytest

from rayexec import CancelledError, Client, as_completed, wait


def inc(x):
    return x + 1


def test_map_over_something_not_iterable(client):
    with pytest.raises(TypeError, match="int"):
        client.map(inc, 5)


def test_not_callable(client):
    with pytest.raises(TypeError, match="callable"):
        client.map(3, [1])


def test_unknown_gather_errors_mode(client):
    with pytest.raises(ValueError, match="errors"):
        client.gather([client.submit(inc, 1)], errors="bogus")


def test_unknown_return_when(client):
    with pytest.raises(ValueError, match="return_when"):
        wait([client.submit(inc, 1)], return_when="SOMETIMES")


def test_as_completed_takes_futures_only(client):
    with pytest.raises(TypeError, match="Futures"):
        as_completed([1, 2])


def test_bad_batch_size(client):
    with pytest.raises(ValueError, match="batch_size"):
        client.map(inc, [1, 2], batch_size=0)


def test_map_key_list_of_wrong_length(client):
    with pytest.raises(ValueError, match="2 keys for 3 elements"):
        client.map(inc, [1, 2, 3], key=["a", "b"])


def test_unpicklable_function_names_it(client):
    lock = threading.Lock()
    with pytest.raises(TypeError, match="serialise the function"):
        client.submit(lambda: lock, pure=False)


def test_unpicklable_argument_names_the_function(client):
    with pytest.raises(TypeError, match=r"arguments of inc\(\)"):
        client.submit(inc, threading.Lock())


def test_futures_of_a_closed_client(ray_cluster):
    other = Client(set_as_default=False)
    future = other.submit(inc, 1)
    future.result()
    other.close()
    with Client() as fresh:
        with pytest.raises((RuntimeError, CancelledError)):
            fresh.submit(inc, future)
    with pytest.raises(CancelledError):
        future.result()


def test_gathering_cancelled_futures(client):
    future = client.submit(inc, 10)
    future.cancel()
    with pytest.raises(CancelledError):
        client.gather([future])


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:notaport", "http://x:1", ""])
def test_malformed_addresses(ray_cluster, address):
    with pytest.raises((ValueError, TypeError), match="address|port"):
        Client(address, timeout=1)


def test_an_unreachable_address_says_how_long_it_waited():
    from rayexec.deploy.local_cluster import free_port

    address = f"127.0.0.1:{free_port()}"  # nothing listens: refused until the timeout
    with pytest.raises(OSError) as refused:
        Client(address, timeout=2)
    message = str(refused.value)
    # distributed's tests match "connect" in the OSError
    assert f"cannot connect to a Ray cluster at {address!r}" in message, message
    assert "refused" in message, message
    assert re.search(r"after [12]\.\d s \(timeout=2 s\)", message), message


def test_a_scheduler_that_comes_up_while_the_client_waits_is_reached():
    """As in distributed, a refused address is tried again until the timeout: a
    scheduler started just before the client may still be coming up."""
    import socket

    from rayexec.deploy.addresses import _wait_for_listener
    from rayexec.deploy.local_cluster import free_port

    port = free_port()
    server = socket.socket()

    def listen_later():
        time.sleep(0.5)
        server.bind(("127.0.0.1", port))
        server.listen()

    later = threading.Thread(target=listen_later)
    later.start()
    try:
        _wait_for_listener("127.0.0.1", port, time.monotonic() + 10)
    finally:
        later.join()
        server.close()


def test_bad_resources_and_workers(client):
    with pytest.raises(ValueError, match="no worker has CPU 1, unicorn 1 for this task"):
        client.submit(inc, 1, resources={"unicorn": 1})
    with pytest.raises(ValueError, match=r"no worker has CPU 1, memory 64.00 TiB .* the "
                                         r"workers have: tcp://\S+: CPU 1, memory \d+\.\d\d GiB"):
        client.submit(inc, 1, resources={"memory": 2**46})
    with pytest.raises(ValueError, match="unknown worker"):
        client.submit(inc, 1, workers=["tcp://1.2.3.4:1"])


def test_the_connect_timeout_is_distributeds_setting():
    import dask.config

    from rayexec.deploy.local_cluster import free_port

    address = f"127.0.0.1:{free_port()}"
    with dask.config.set({"distributed.comm.timeouts.connect": "200ms"}):
        started = time.monotonic()
        with pytest.raises(OSError, match=r"timeout=0\.2 s"):
            Client(address)
    assert time.monotonic() - started < 5
    with pytest.raises(OSError, match=r"timeout=0\.3 s"):
        Client(address, timeout="300ms")  # distributed takes a duration string too
