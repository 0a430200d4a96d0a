"""Client(n_workers=2, ...) started from a thread other than the main one; the cluster
it started scales up and down; prints a JSON report (with the node process ids, so
the test can check they are gone after close).  Then a client started by a thread
that ends at once, used afterwards from the main thread, as a web handler or a
helper thread hands over the client it made."""

import json
import threading
import time

from rayexec import Client


def main(report):
    with Client(n_workers=2, threads_per_worker=1, memory_limit="1GB",
                dashboard_address=":0") as client:
        cluster = client.cluster
        report["cluster"] = type(cluster).__name__
        report["nthreads"] = sorted(client.nthreads().values())
        report["memory_limits"] = sorted(w["memory_limit"] for w in
                                         client.scheduler_info()["workers"].values())
        report["result"] = client.submit(sum, [1, 2]).result()
        cluster.scale(3)
        report["after_scale_up"] = len(client.nthreads())
        report["pids"] = [node.pid for node in cluster.workers.values()][1:]
        cluster.scale(1)
        client.wait_for_workers(1)
        report["after_scale_down"] = len(cluster.workers)
        report["dashboard_link"] = client.dashboard_link


def handed_over(report):
    made = {}
    thread = threading.Thread(target=lambda: made.update(client=Client(
        n_workers=2, threads_per_worker=1, dashboard_address=None)))
    thread.start()
    thread.join()
    time.sleep(2)  # long enough for a node bound to the ended thread to stop
    with made["client"] as client:
        nodes = list(client.cluster.workers.values())[1:]  # 0 is this process's own Ray
        report["handed_over"] = {"nodes_alive": [node.alive() for node in nodes],
                                 "nthreads": sorted(client.nthreads().values()),
                                 "result": client.submit(sum, [3, 4]).result(timeout=60)}


if __name__ == "__main__":
    report = {}
    thread = threading.Thread(target=main, args=(report,))
    thread.start()
    thread.join()
    handed_over(report)
    print(json.dumps(report), flush=True)
