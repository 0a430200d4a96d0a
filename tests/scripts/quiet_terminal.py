"""What a user sees: an asynchronous client started from a thread, a task that prints,
then a two-worker local cluster.  Run with stdout and stderr going to pipes."""

import asyncio
import sys
import time

from rayexec import Client


class Seen:
    """This process's stdout, remembering what went through it."""

    def __init__(self, stream):
        self.stream, self.text = stream, ""

    def write(self, text):
        self.text += text
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def shout(text):
    print(text, flush=True)
    return text


async def asynchronous():
    async with Client(asynchronous=True, dashboard_address=None) as client:
        print("async result", await client.submit(shout, "printed by a task"), flush=True)
        # Ray forwards a task's output to the client in the background: let it arrive.
        deadline = time.monotonic() + 60
        while "pid=" not in sys.stdout.text and time.monotonic() < deadline:
            await asyncio.sleep(0.2)


if __name__ == "__main__":
    sys.stdout = Seen(sys.stdout)
    asyncio.run(asynchronous())
    with Client(n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        print("two workers", len(client.nthreads()), flush=True)
