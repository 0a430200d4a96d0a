"""Connect, start a long task, and exit without closing the client."""

import os
import sys
import time

import ray

from rayexec import Client


def write_later(path):
    time.sleep(5)
    open(path, "w").close()


if __name__ == "__main__":
    address, marker = sys.argv[1], sys.argv[2]
    ray.init(address=address, logging_level="ERROR")
    client = Client()
    client.submit(write_later, marker, pure=False)
    time.sleep(1)  # the task is running now
    os._exit(0)  # no close, no atexit: the process just ends
