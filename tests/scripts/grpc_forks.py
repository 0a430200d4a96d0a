"""A client process forking while another thread is inside gRPC, as one does when
it starts Ray's processes (``ray.init`` forks, then execs) while rayexec probes a
starting head from another thread.  ``client-first`` starts a ``Client`` before
the probes, so Ray, not rayexec, may be the first to import gRPC.  Prints the
fork-support setting the process's children see, then "done"."""

import os
import socket
import subprocess
import sys
import threading

from rayexec.deploy.addresses import asks_for_token


def probe_until(stop: threading.Event, address: str) -> None:
    while not stop.is_set():
        try:
            asks_for_token(address, timeout=0.05)
        except OSError:  # nothing answers there: the probe is what matters
            pass


def main(mode: str) -> None:
    client = None
    if mode == "client-first":
        from rayexec import Client

        client = Client(n_workers=1, threads_per_worker=1, dashboard_address=None)
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{closed.getsockname()[1]}"
    stop = threading.Event()
    prober = threading.Thread(target=probe_until, args=(stop, address))
    prober.start()
    try:
        for _ in range(150):  # preexec_fn makes subprocess fork(), as Ray's start-up does
            subprocess.run(["true"], preexec_fn=lambda: None, check=True)
    finally:
        stop.set()
        prober.join()
    if client is not None:
        client.close()
    print("children see", os.environ.get("GRPC_ENABLE_FORK_SUPPORT"), flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
