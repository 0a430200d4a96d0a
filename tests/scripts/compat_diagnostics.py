"""A distributed user's diagnostics script, run unchanged through the shim
(PYTHONPATH=<checkout>/compat): performance_report, get_task_stream, a worker
plugin, Environ, processing, story, call_stack and a cluster dump.

Run as: python compat_diagnostics.py <output folder>
Prints one JSON line of findings.
"""

import json
import os
import sys
import time

import distributed
from distributed import Client, get_task_stream, performance_report
from distributed.diagnostics.plugin import Environ, WorkerPlugin

folder = sys.argv[1]


class Setting(WorkerPlugin):
    def setup(self, worker):
        os.environ["PEER_PLUGIN"] = "set-by-plugin"


def inc(x):
    return x + 1


def hold(path):
    while not os.path.exists(path):
        time.sleep(0.05)
    return "held"


if __name__ == "__main__":
    found = {"shim": distributed.__file__}
    with Client(n_workers=1, threads_per_worker=2) as client:
        client.register_plugin(Setting())
        client.register_plugin(Environ({"PEER_ENV": "from-environ"}))
        report = os.path.join(folder, "report.html")
        with performance_report(filename=report):
            with get_task_stream() as ts:
                total = client.submit(sum, client.map(inc, range(10)))
                found["total"] = total.result()
        found["stream_keys"] = sorted({r["key"].split("-")[0] for r in ts.data})
        found["report_has_inc"] = "inc" in open(report).read()
        found["env"] = client.submit(lambda: (os.environ.get("PEER_PLUGIN"),
                                              os.environ.get("PEER_ENV"))).result()
        flag = os.path.join(folder, "go")
        held = client.submit(hold, flag, key="peer-hold")
        deadline = time.time() + 60
        while time.time() < deadline and not any(
                "peer-hold" in keys for keys in client.processing().values()):
            time.sleep(0.2)
        found["processing"] = client.processing()
        stacks = client.call_stack(keys=["peer-hold"])
        found["stack_mentions_hold"] = any(
            "in hold" in line for by_key in stacks.values() for frames in by_key.values()
            for line in frames)
        open(flag, "w").close()
        held.result()
        found["story_states"] = [e[3] for e in client.story("peer-hold")]
        try:  # Ray's log API is served by the dashboard, which this cluster does not run
            client.get_worker_logs(n=5)
        except RuntimeError as exc:
            found["logs_error"] = str(exc)
        client.dump_cluster_state(os.path.join(folder, "dump"), format="yaml")
        found["dump"] = os.path.exists(os.path.join(folder, "dump.yaml"))
    print(json.dumps(found))
