"""get_worker_logs / get_scheduler_logs through Ray's log API, on a local cluster
started with a dashboard (which serves that API).  Prints one JSON line."""

import json

from rayexec import Client
from rayexec.diagnostics import logs


def shout():
    print("hello from a task", flush=True)
    return 1


if __name__ == "__main__":
    with Client(n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        client.submit(shout, pure=False).result()
        workers = client.get_worker_logs(n=200)
        scheduler = client.get_scheduler_logs(n=20)
        report = {
            "dashboard": client.dashboard_link,
            "workers": sorted(workers) == sorted(client.scheduler_info()["workers"]),
            "pairs": all(isinstance(level, str) and isinstance(line, str)
                         for lines in workers.values() for level, line in lines),
            "task_output_found": any("hello from a task" in line
                                     for lines in workers.values() for _, line in lines),
            "scheduler_lines": len(scheduler),
        }
        # A node the dashboard has no agent for (yet): asked again, then a clear error.
        logs.AGENT_WAIT = 1.0
        try:
            logs.node_log("ab" * 28, logs.WORKER_FILES, 10)
        except RuntimeError as exc:
            report["unknown_node"] = str(exc)
    print(json.dumps(report))
