"""A second client process on the same cluster: reads and writes shared primitives by name.

Run as: python coord_peer.py <address> <name>
"""

import sys

from rayexec import Client
from rayexec.coordination.events import Event
from rayexec.coordination.locks import Lock
from rayexec.coordination.queues import Queue
from rayexec.coordination.variables import Variable

address, name = sys.argv[1], sys.argv[2]
with Client(address) as client:
    lock = Lock(name)
    print("locked", lock.locked(), flush=True)
    print("acquired", lock.acquire(blocking=False), flush=True)
    value = Variable(name).get(timeout=30).result()
    print("variable", value, flush=True)
    future = client.submit(lambda x: x + 1, value)
    Queue(name).put(future)
    future.result()
    # This process owns the future's data: stay until the reader says it has it.
    print("released", Event(name).wait(timeout=120), flush=True)
