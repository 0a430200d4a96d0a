"""The Client's diagnostics methods: what runs where, and with which software."""

from __future__ import annotations

from ..asynchronous import async_capable
from ..workers import nodes
from . import introspection, logs, task_stream, versions


class DiagnosticsMethods:
    """Mixin of :class:`rayexec.Client`: diagnostics distributed's Client offers.

    Relies on the Client's ``run`` and ``run_on_scheduler``.
    """

    @async_capable
    def get_versions(self, check: bool = False, packages=None, asynchronous=None) -> dict:
        """Python and package versions on the client, the head node and each worker.

        ``packages`` adds package names to report; ``check=True`` raises
        ``ValueError`` naming any required package (Python, Ray, rayexec, dask,
        cloudpickle, toolz, and ``packages``) whose versions differ.

        >>> client.get_versions()["client"]["packages"]["ray"]  # doctest: +SKIP
        '2.60.0'
        """
        extra = tuple(packages or ())
        result = {"scheduler": self.run_on_scheduler(versions.here, extra),
                  "workers": self.run(versions.here, extra),
                  "client": versions.here(extra)}
        differ = versions.mismatches(result, extra)
        if check and differ:
            raise ValueError("Mismatched versions found:\n" + "\n".join(differ))
        return result

    def processing(self, workers=None) -> dict[str, list[str]]:
        """The keys processing on each worker: tasks running there, from Ray's task
        events (sent every 0.1 s by the nodes rayexec starts, every second by
        others), and single calls sent to the worker's executor actors, queued or
        running, known from the moment they are sent.  Keys no client of
        this process holds any more are left out, as distributed's scheduler
        forgets them, even while a worker still runs their code.

        ``workers`` (an address or a list of them) limits the answer to those.

        >>> client.processing()  # doctest: +SKIP
        {'tcp://10.0.0.5:40000': ['inc-1c8dd6be1c21646c71f76c16d09304ea'],
         'tcp://10.0.0.6:40000': []}
        """
        return introspection.processing(self, workers)

    def story(self, *keys_or_stimuli, on_error="raise") -> list[tuple]:
        """The state transitions Ray recorded for the tasks computing these keys.

        Entries are distributed's ``(source, key, start, finish, recommendations,
        stimulus_id, timestamp)``; the states are Ray's (``PENDING_ARGS_AVAIL``,
        ``RUNNING``, ``FINISHED``, ``FAILED``, ...), the stimulus names the Ray
        task, as ``ray list tasks`` shows it.

        >>> [entry[3] for entry in client.story(future.key)]  # doctest: +SKIP
        ['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'SUBMITTED_TO_WORKER', 'RUNNING',
         'FINISHED']
        """
        return introspection.story(self, keys_or_stimuli, on_error)

    def get_task_stream(self, start=None, stop=None, count=None, plot=False,
                        filename="task-stream.html", bokeh_resources=None):
        """distributed's task-stream records of this job's Ray tasks (see
        :mod:`rayexec.diagnostics.task_stream`).

        ``start``/``stop``: ``time()`` numbers or durations before now (``"60s"``);
        ``count``: the last so many.  ``plot=True`` returns ``(records, figure)``
        with a bokeh figure; ``plot="save"`` also writes it to ``filename``.

        >>> records = client.get_task_stream(start="10s")  # doctest: +SKIP
        >>> records[0]["startstops"][-1]["action"]          # doctest: +SKIP
        'compute'
        """
        records = task_stream.collect(start, stop, count, introspection.keys_by_task(self))
        if not plot:
            return records
        from . import charts

        figure = charts.task_stream_figure(records)
        if plot == "save":
            charts.save(figure, filename, "Task Stream", bokeh_resources)
        return records, figure

    def call_stack(self, futures=None, keys=None) -> dict[str, dict[str, list[str]]]:
        """The call stacks of running tasks: worker address -> key -> traceback lines.

        Ray's ``ray stack`` reads them with py-spy; so does this, on each node
        with running tasks of ``futures``/``keys`` (all running tasks when
        neither is given).  An error names ``ray stack`` where py-spy may not
        read processes.

        >>> client.call_stack(keys=[future.key])  # doctest: +SKIP
        {'tcp://10.0.0.5:40000': {'slow-1a2b': ['  File "job.py", line 5, in slow\\n']}}
        """
        wanted = list(keys or [])
        if futures is not None:
            wanted += list({f.key for f in self.futures_of(futures)})
        return introspection.call_stack(self, wanted or None)

    def get_worker_logs(self, n=None, workers=None, nanny=False) -> dict[str, list]:
        """Each worker's (Ray node's) log lines, newest first, as ``(level, line)``.

        Read with Ray's log API, which needs the Ray dashboard (see
        :mod:`rayexec.diagnostics.logs`).

        >>> client.get_worker_logs(n=2)  # doctest: +SKIP
        {'tcp://10.0.0.5:40000': [('INFO', '[2026-... I ...] raylet ...'), ...]}
        """
        return logs.worker_logs(self._workers(workers), n)

    def get_scheduler_logs(self, n=None) -> list[tuple[str, str]]:
        """The head node's control-store log lines, newest first, as ``(level, line)``.

        >>> client.get_scheduler_logs(n=1)  # doctest: +SKIP
        [('INFO', '[2026-... I ...] gcs_server.cc:... ')]
        """
        head = next(w for w in nodes.alive_workers() if w.is_head)
        return logs.scheduler_logs(head.node_id, n)

    def dump_cluster_state(self, filename: str = "dask-cluster-dump",
                           write_from_scheduler: bool | None = None, exclude=(),
                           format: str = "msgpack", **storage_options) -> None:
        """Write Ray's cluster and task state to ``filename`` + ``.msgpack.gz`` / ``.yaml``.

        The layout is distributed's (``scheduler``, ``workers``, ``versions``);
        ``exclude`` drops fields by name.  The client writes the file.

        >>> client.dump_cluster_state("dump", format="yaml")  # doctest: +SKIP
        """
        if format not in ("msgpack", "yaml"):
            raise ValueError(f"format must be 'msgpack' or 'yaml', got {format!r}")
        state = introspection.cluster_state(self, exclude)
        introspection.write_cluster_state(state, filename, format, storage_options)

