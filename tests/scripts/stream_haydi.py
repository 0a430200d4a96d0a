"""Haydi's use of distributed, reproduced: its DistributedContext and JobScheduler.

Haydi (a Python 2 package, not installable here) runs a pipeline over a domain
as jobs of ``(cached_args, start, size)``: it scatters the cached arguments
with ``broadcast=True``, submits jobs with ``Client.map``, consumes
``as_completed`` on a second thread that feeds a queue, polls that queue from
the main thread, and cancels every future it made when done.  This script does
the same, through ``import distributed`` (the shim must be on PYTHONPATH).

    stream_haydi.py spawn N     # DistributedContext(spawn_workers=N)
    stream_haydi.py connect     # a LocalCluster, then DistributedContext(ip=, port=)
"""

import math
import queue
import sys
import threading
import time

from distributed import Client, LocalCluster, as_completed


class DistributedContext:
    """Haydi's constructor, with the calls it makes to distributed."""

    def __init__(self, ip="127.0.0.1", port=8787, spawn_workers=0):
        self.cluster = None
        if spawn_workers > 0:
            self.cluster = LocalCluster(ip=ip, scheduler_port=port, dashboard_address=None,
                                        n_workers=spawn_workers, threads_per_worker=1)
            self.executor = Client(self.cluster)
        else:
            self.executor = Client(f"tcp://{ip}:{port}")

    def worker_count(self):
        workers = sum(self.executor.ncores().values())
        if workers == 0:
            raise RuntimeError("There are no workers")
        return workers


def worker_step(cached_args, start, size):
    """A job: the pipeline's transformation over ``range(start, start + size)``."""
    fn = cached_args["map"]
    return start, size, [fn(x) for x in range(start, start + size)]


def square_plus_one(x):
    return x * x + 1


class JobScheduler:
    """Haydi's scheduler: backlog of jobs per worker, refilled as jobs complete."""

    def __init__(self, executor, worker_count, size, cached_args):
        self.executor = executor
        self.worker_count = worker_count
        self.size = size
        self.cached_args = cached_args
        self.backlog_per_worker = 4
        self.index_scheduled = 0
        self.ordered_futures = []
        self.job_queue = queue.Queue()
        self.completed = False
        self.canceled = False
        self.job_thread_name = None

    def start(self):
        self.executor.scatter([self.cached_args], broadcast=True)
        thread = threading.Thread(target=self._iterate_jobs, daemon=True)
        thread.start()

    def stop(self):
        self.canceled = True
        for future in self.ordered_futures:
            future.cancel()

    def _iterate_jobs(self):
        self.job_thread_name = threading.current_thread().name
        half = self.backlog_per_worker // 2
        active = self._schedule(self.backlog_per_worker)
        while active and not self.canceled:
            following = []
            iterated = 0
            for future in as_completed(active):
                self.job_queue.put(future.result())
                iterated += 1
                if iterated >= half * self.worker_count:
                    iterated = 0
                    following += self._schedule(half)
            following += self._schedule(half)
            active = following
        self.completed = True

    def _schedule(self, per_worker):
        count = self.worker_count * per_worker
        job_size = max(1, math.ceil(self.size / (count * 4)))
        batches = []
        while self.index_scheduled < self.size and len(batches) < count:
            size = min(job_size, self.size - self.index_scheduled)
            batches.append((self.cached_args, self.index_scheduled, size))
            self.index_scheduled += size
        if not batches:
            return []
        futures = self.executor.map(worker_step, *zip(*batches))
        self.ordered_futures += futures
        return futures


def run(ctx, size):
    """Haydi's DistributedContext.run: jobs polled from the queue, then ordered."""
    scheduler = JobScheduler(ctx.executor, ctx.worker_count(), size,
                             {"map": square_plus_one})
    scheduler.start()
    jobs = []
    deadline = time.monotonic() + 120
    while not (scheduler.completed or scheduler.canceled):
        assert time.monotonic() < deadline, "the jobs did not complete"
        try:
            jobs.append(scheduler.job_queue.get(block=False))
        except queue.Empty:
            time.sleep(0.05)
    while True:
        try:
            jobs.append(scheduler.job_queue.get(block=False))
        except queue.Empty:
            break
    scheduler.stop()
    assert scheduler.job_thread_name != threading.current_thread().name
    jobs.sort(key=lambda job: job[0])
    cancelled = sum(f.cancelled() for f in scheduler.ordered_futures)
    return [x for _, _, values in jobs for x in values], len(jobs), cancelled


def main():
    from rayexec.deploy.local_cluster import free_port

    mode = sys.argv[1]
    size = 2000
    if mode == "spawn":
        ctx = DistributedContext(port=free_port(), spawn_workers=int(sys.argv[2]))
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, scheduler_port=free_port(),
                               dashboard_address=None)
        port = int(cluster.scheduler_address.rsplit(":", 1)[1])
        ctx = DistributedContext(ip="127.0.0.1", port=port)
    results, njobs, cancelled = run(ctx, size)
    assert results == [square_plus_one(x) for x in range(size)], "wrong or missing results"
    print(f"workers={ctx.worker_count()} jobs={njobs} cancelled={cancelled} ok")
    ctx.executor.close()
    (ctx.cluster or cluster).close()


if __name__ == "__main__":
    main()
