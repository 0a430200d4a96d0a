"""Leases outlive their holders only by the lease timeout, as in distributed."""

import os
import signal
import time
import uuid

import dask
import pytest

from rayexec.coordination.locks import Lock
from rayexec.coordination.semaphores import Semaphore

TIMEOUT = "1s"


def _take_and_die(sem):
    sem.acquire()
    os.kill(os.getpid(), signal.SIGKILL)  # dies holding the lease


def test_a_dead_holders_lease_is_freed_after_the_lease_timeout(client):
    with dask.config.set({"distributed.scheduler.locks.lease-timeout": TIMEOUT}):
        sem = Semaphore(max_leases=1, name=f"dies-{uuid.uuid4().hex}")
    doomed = client.submit(_take_and_die, sem, pure=False)
    with pytest.raises(Exception, match="died|worker"):
        doomed.result(timeout=120)
    started = time.monotonic()
    assert sem.acquire(timeout=30), "the dead holder's lease was never freed"
    assert time.monotonic() - started < 30
    sem.release()


def test_a_live_holder_keeps_its_lease_past_the_timeout(client):
    with dask.config.set({"distributed.scheduler.locks.lease-timeout": TIMEOUT}):
        lock = Lock(f"kept-{uuid.uuid4().hex}")
    assert lock.acquire()
    time.sleep(3)  # three timeouts: only the refreshes keep it
    assert lock.locked()
    assert not Lock(lock.name).acquire(timeout=0.5)
    assert lock.release()
