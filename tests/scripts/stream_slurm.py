"""A SLURMCluster on a real Slurm: two worker jobs, a Client, scale down, close.

    stream_slurm.py LOG_DIRECTORY local   # the Ray head runs here
    stream_slurm.py LOG_DIRECTORY job     # the Ray head is a job too
"""

import gc
import socket
import subprocess
import sys
import time
import traceback

from rayexec import Client
from rayexec.deploy.jobqueue import SLURMCluster


def node_of_task(x):
    import ray

    time.sleep(0.3)  # long enough that one node cannot take every task
    return x, ray.get_runtime_context().get_node_id()


def queued(job_ids):
    out = subprocess.run(["squeue", "-h", "-o", "%i", "-j", ",".join(job_ids)],
                         capture_output=True, text=True).stdout.split()
    return [j for j in job_ids if j in out]


def main():
    head = sys.argv[2]
    cluster = SLURMCluster(cores=1, memory="1GB", walltime="00:10:00", head=head,
                           log_directory=sys.argv[1], name="rayexec-test")
    client = None
    try:
        cluster.scale(2)
        jobs = cluster.jobs
        assert len(jobs) == 2, jobs
        client = Client(cluster)
        # A head here has no CPUs (it runs no tasks); a head job has the job's CPUs.
        with_cpus = [1, 1] if head == "local" else [1, 1, 1]
        client.wait_for_workers(len(with_cpus) + (head == "local"), timeout=240)
        threads = sorted(n for n in client.nthreads().values() if n)
        assert threads == with_cpus, client.nthreads()
        results = client.gather(client.map(node_of_task, range(20), batch_size=1))
        assert [x for x, _ in results] == list(range(20))
        nodes = {node for _, node in results}
        cpu_nodes = {w["id"] for w in client.scheduler_info()["workers"].values()
                     if w["nthreads"]}
        assert nodes <= cpu_nodes and len(nodes) >= 2, (nodes, cpu_nodes)
        cluster.scale(1)
        assert cluster.jobs == jobs[:1]
        deadline = time.monotonic() + 60
        while queued(jobs[1:]):
            assert time.monotonic() < deadline, "scancel did not end the second job"
            time.sleep(1)
        client.close()
        cluster.close()
        deadline = time.monotonic() + 60
        while queued(jobs):
            assert time.monotonic() < deadline, "close() did not cancel the jobs"
            time.sleep(1)
    except BaseException:
        # Printed now: once the head is gone, Ray ends this process before Python can.
        traceback.print_exc()
        raise
    finally:
        if client is not None:
            client.close()
        cluster.close()  # idempotent; cancels the jobs if the run failed half-way
    if head == "local":  # a cluster dropped without close() cancels its jobs
        dropped = SLURMCluster(cores=1, walltime="00:05:00", log_directory=sys.argv[1])
        dropped.scale(1)
        orphan = dropped.jobs
        assert queued(orphan) == orphan
        del dropped
        gc.collect()
        deadline = time.monotonic() + 60
        while queued(orphan):
            assert time.monotonic() < deadline, "a dropped cluster's job was left running"
            time.sleep(1)
    print(f"head={head} jobs={','.join(jobs)} task_nodes={len(nodes)} "
          f"host={socket.gethostname()} ok")


if __name__ == "__main__":
    main()
