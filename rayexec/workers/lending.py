"""A seceded task lends its CPU back to Ray while the tasks it submitted run.

distributed's ``secede()`` takes a task that waits for tasks of its own out of
its worker's thread pool, so that they can run in its slot: nested parallelism
deeper than the cluster's threads does not deadlock.  Ray lends a task's CPU
back only while the task's main thread is blocked in Ray (``ray.get``,
``ray.wait``).  Code that waits by polling never blocks there -- joblib's
``Parallel`` checks its futures in a 10 ms sleep loop -- so two such tasks on a
two-CPU cluster would wait forever for inner tasks that cannot start.

So from ``secede()`` to ``rejoin()`` a timer interrupts the task's main thread
every :data:`TICK` seconds.  When the thread is idle -- it used less than
:data:`IDLE` of a CPU since the last look, and is not inside Ray already --
and tasks submitted from this process are still running, it waits in
``ray.wait`` for the first of them to finish (at most :data:`WAIT` seconds),
lending its CPU for that long, then goes on where it was.  A seceded task that
computes, or has nothing in flight, is never held up, so a long-running
seceded loop keeps its pace.  Only a task's main thread can lend (Ray does not
lend an actor's CPU, nor a wait in another thread); elsewhere ``secede()``
lends nothing, as before.

>>> start()  # outside a task: nothing to lend
>>> lending()
False
"""

from __future__ import annotations

import signal
import threading
import time

from ..defaults import current_client, inside_task

TICK = 0.05  # seconds between looks at what this task waits for
WAIT = 0.5  # longest wait in Ray at one look: the task then goes on, and looks again
IDLE = 0.2  # share of a CPU below which the task's thread counts as waiting

# While lending: the id of the task that seceded, and the SIGALRM handler it replaced.
_lending: tuple | None = None


def lending() -> bool:
    """Whether this process's task is lending its CPU (has seceded)."""
    return _lending is not None


def start() -> None:
    """Lend this task's CPU while its own tasks run (see the module's docstring)."""
    global _lending
    if _lending is not None or not _main_thread_of_a_task():
        return
    import ray

    previous = signal.signal(signal.SIGALRM, _look)
    signal.siginterrupt(signal.SIGALRM, False)  # system calls the timer interrupts resume
    _lending = (ray.get_runtime_context().get_task_id(), previous)
    _last_look[:] = [time.monotonic(), time.thread_time()]
    signal.setitimer(signal.ITIMER_REAL, TICK, TICK)


def stop() -> None:
    """Stop lending: the task has rejoined (or ended, seen at the next look)."""
    global _lending
    if _lending is None or threading.current_thread() is not threading.main_thread():
        return
    signal.setitimer(signal.ITIMER_REAL, 0)
    previous = _lending[1]
    _lending = None
    signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


def _main_thread_of_a_task() -> bool:
    if threading.current_thread() is not threading.main_thread() or not inside_task():
        return False
    import ray

    return ray.get_runtime_context().get_actor_id() is None


_looking = False  # a look is under way (the timer fires again during its wait)
_last_look = [0.0, 0.0]  # when the last look ended: wall clock, the main thread's CPU time


def _idle(frame) -> bool:
    """Whether the main thread waits: little CPU used since the last look, and not
    stopped inside Ray (whose own waits lend the CPU, and which runs signal handlers
    while it waits)."""
    if frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "ray":
        return False
    wall, cpu = time.monotonic() - _last_look[0], time.thread_time() - _last_look[1]
    return cpu < IDLE * wall


def _look(signum, frame) -> None:
    """The timer's handler, in the task's main thread: wait in Ray if work is in flight.

    It runs between two steps of whatever the task was doing, so it never
    raises into it.
    """
    global _looking
    if _lending is None or _looking:
        return
    _looking = True
    try:
        import ray

        if ray.get_runtime_context().get_task_id() != _lending[0]:
            stop()  # the task that seceded ended without rejoining
            return
        client = current_client()
        refs = client._refs_in_flight() if client is not None and _idle(frame) else []
        if refs:
            ray.wait(refs, num_returns=1, timeout=WAIT, fetch_local=False)
    except Exception:  # noqa: BLE001 -- a failed look only means no lending this time
        pass
    finally:
        _last_look[:] = [time.monotonic(), time.thread_time()]
        _looking = False
