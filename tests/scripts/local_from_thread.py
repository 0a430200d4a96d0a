"""Client(n_workers=2, ...) started from a thread other than the main one; the cluster
it started scales up and down; prints a JSON report (with the node process ids, so
the test can check they are gone after close)."""

import json
import threading

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


if __name__ == "__main__":
    report = {}
    thread = threading.Thread(target=main, args=(report,))
    thread.start()
    thread.join()
    print(json.dumps(report), flush=True)
