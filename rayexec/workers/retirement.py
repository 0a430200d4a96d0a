"""Retiring workers (``Client.retire_workers``) with Ray's node drain.

distributed's scheduler retires a worker in three steps: it stops sending it
tasks, copies the data only that worker holds to other workers, and closes it.
On Ray the same steps are:

1. the data this client holds only on the retiring nodes gets a copy on another
   node (:func:`rayexec.workers.replication.replicate`); when the node goes, Ray
   recovers each object from that copy instead of computing it again;
2. the node is drained: Ray schedules nothing new there, and the tasks running
   there finish;
3. the call waits until the node's CPUs are all free; then the node may stop.
   A node that the client's own local cluster started is stopped by it; any
   other stays up, drained, for its owner (``ray stop`` on that machine) or
   Ray's autoscaler to end.

Ray's drain request is what its autoscaler and the hidden ``ray drain-node``
command send, and the free resources of one node are read from Ray's own state
reader; neither is public API, hence this one guarded module.
"""

from __future__ import annotations

import time

from .nodes import WorkerInfo, alive_workers

DRAIN_MESSAGE = "retired by rayexec (Client.retire_workers)"


def drain(worker: WorkerInfo) -> None:
    """Ask Ray to schedule nothing new on ``worker``'s node; its running tasks finish."""
    try:
        import ray
        from ray.core.generated import autoscaler_pb2

        gcs = ray._private.worker.global_worker.gcs_client
        reason = autoscaler_pb2.DrainNodeReason.Value("DRAIN_NODE_REASON_PREEMPTION")
    except (ImportError, AttributeError, ValueError) as exc:
        raise NotImplementedError(
            "retire_workers needs Ray's node drain, which this Ray version lacks; stop the "
            "node with `ray stop` on its machine instead") from exc
    accepted, why = gcs.drain_node(worker.node_id, reason, DRAIN_MESSAGE, 0)
    if not accepted:
        raise RuntimeError(f"Ray refused to drain worker {worker.address}: {why}")


def wait_idle(retiring: list[WorkerInfo], timeout: float) -> None:
    """Block until no task runs on the ``retiring`` nodes (all their CPUs are free), or
    ``TimeoutError`` naming those still busy after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        free = _free_resources_per_node()
        busy = [w.address for w in retiring
                if w.node_id in free and free[w.node_id].get("CPU", 0) < w.nthreads]
        if not busy:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"retire_workers: tasks still run on {busy} after {timeout} s; "
                               "the workers are drained and take no new tasks")
        time.sleep(0.2)


def _free_resources_per_node() -> dict:
    """Node id -> its resources free now.  Ray's public calls give only cluster totals
    (the per-node reader of its state API needs a dashboard); this is the reader
    behind ``ray.available_resources``."""
    try:
        from ray._private.state import available_resources_per_node
    except ImportError as exc:
        raise NotImplementedError(
            "retire_workers needs Ray's per-node resource view, which this Ray version "
            "lacks; stop the node with `ray stop` on its machine instead") from exc
    return available_resources_per_node()


def check_retirable(retiring: list[WorkerInfo]) -> None:
    """``ValueError`` for a head node among ``retiring``, or a cluster left without
    workers: Ray cannot drain its head, and work needs somewhere to run."""
    heads = [w.address for w in retiring if w.is_head]
    if heads:
        raise ValueError(f"retire_workers cannot retire {heads[0]}: it is the Ray head node, "
                         "which stops only with the whole cluster (Client.shutdown())")
    ids = {w.node_id for w in retiring}
    if not [w for w in alive_workers() if w.runs_tasks and w.node_id not in ids]:
        raise ValueError("retire_workers would leave no worker to run tasks or hold data")
