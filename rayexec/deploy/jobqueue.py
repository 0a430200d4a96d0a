"""HPC job queues: Ray clusters whose nodes are Slurm or PBS jobs, like dask-jobqueue's.

``SLURMCluster(cores=..., memory=..., walltime=...)`` starts the Ray head (here,
as dask-jobqueue starts its scheduler here, or as a job of its own with
``head="job"``); ``scale(n)`` submits ``n`` worker jobs, each running one Ray
node joined to the head; ``Client(cluster)`` connects.  Scaling down and
``close()`` cancel jobs.

>>> from rayexec import Client
>>> from rayexec.deploy.jobqueue import SLURMCluster
>>> cluster = SLURMCluster(cores=4, memory="16GB", walltime="01:00:00")  # doctest: +SKIP
>>> cluster.scale(10)                                                    # doctest: +SKIP
>>> client = Client(cluster)                                             # doctest: +SKIP
>>> print(cluster.job_script())                                          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import weakref

from .jobqueue_scripts import JobSpec, head_script, token_path_if_any, worker_script

logger = logging.getLogger(__name__)


class JobQueueCluster:
    """The batch-system-independent part; subclasses name the commands and headers.

    ``head="local"`` (default) runs the Ray head on this machine, ``head="job"``
    submits it as a job and waits until it writes its address to
    ``log_directory`` (which must then be on a file system both machines see).
    """

    kind: str = ""
    submit_command: str = ""
    cancel_command: str = ""
    job_id_regex: str = r"(?P<job_id>\d+)"

    def __init__(self, n_workers=0, cores=None, memory=None, processes=None, queue=None,
                 account=None, project=None, walltime="00:30:00", job_extra_directives=None,
                 job_script_prologue=None, log_directory=None, python=sys.executable,
                 name=None, shebang="#!/usr/bin/env bash", resource_spec=None,
                 head="local", scheduler_port=0, host=None, head_timeout=300,
                 **kwargs):
        # `processes` and dask-jobqueue's other worker options are accepted and
        # not needed: Ray runs one single-threaded worker process per CPU itself.
        if cores is None:
            raise ValueError(f"{type(self).__name__} needs cores=: the CPUs of each job")
        if head not in ("local", "job"):
            raise ValueError(f"head must be 'local' or 'job', got {head!r}")
        for command in (self.submit_command, self.cancel_command):
            if shutil.which(command) is None:
                raise RuntimeError(f"{command!r} is not on PATH: {type(self).__name__} "
                                   f"submits jobs with it; run this on the cluster's login node")
        self.name = name or f"rayexec-{self.kind}"
        self.spec = JobSpec(cores=int(cores), memory=memory, walltime=walltime, queue=queue,
                            account=account or project,
                            job_extra_directives=list(job_extra_directives or []),
                            job_script_prologue=list(job_script_prologue or []),
                            log_directory=log_directory, shebang=shebang,
                            resource_spec=resource_spec)
        self.python = python
        self.status = "starting"
        self._jobs: list[str] = []  # worker job ids, oldest first
        self._head_job: list[str] = []  # the head's job id, when the head is a job
        self._head_node: list = []  # the local RayNode, when head="local"
        # Jobs outlive this process unless cancelled: cancel them when the cluster
        # is dropped or at exit, as dask-jobqueue does (close() does it earlier).
        self._finalizer = weakref.finalize(self, _release, self.cancel_command,
                                           self._jobs, self._head_job, self._head_node)
        self._workdir = log_directory or tempfile.mkdtemp(prefix=f"{self.name}-")
        os.makedirs(self._workdir, exist_ok=True)
        self._host = host
        if head == "local":
            self._start_local_head(scheduler_port)
        else:
            self._start_head_job(scheduler_port, head_timeout)
        self.status = "running"
        if n_workers:
            self.scale(n_workers)

    # -- the head ----------------------------------------------------------------
    def _start_local_head(self, port: int) -> None:
        from .local_cluster import RayNode, use_token_auth

        # The head runs no tasks: the work goes to the jobs, as with dask-jobqueue.
        node = RayNode(port=port or None, num_cpus=0).start()
        self._head_node.append(node)
        # Token mode for Client(cluster) here, set before Ray is first used in this
        # process: Ray reads it once.
        use_token_auth()
        from ray.util import get_node_ip_address

        self._head_address = f"{self._host or get_node_ip_address()}:{node.port}"

    def _start_head_job(self, port: int, timeout: float) -> None:
        from .local_cluster import free_port, use_token_auth

        address_file = os.path.join(self._workdir, "head-address")
        if os.path.exists(address_file):
            os.remove(address_file)
        script = head_script(self.kind, self.spec, port or free_port(), address_file,
                             python=self.python, token_path=token_path_if_any(),
                             name=f"{self.name}-head")
        job = self._submit(script)
        self._head_job.append(job)
        deadline = time.monotonic() + timeout
        while not os.path.exists(address_file):
            if time.monotonic() > deadline:
                self._finalizer()
                raise TimeoutError(f"the head job {job} did not start within "
                                   f"{timeout} s; see its output in {self._workdir}")
            time.sleep(1)
        with open(address_file) as f:
            self._head_address = f.read().strip()
        use_token_auth()

    @property
    def scheduler_address(self) -> str:
        """The head's address, for ``Client(cluster)`` and for the worker jobs."""
        return f"tcp://{self._head_address}"

    # -- jobs ------------------------------------------------------------------------
    def job_script(self) -> str:
        """The script each worker job runs."""
        return worker_script(self.kind, self.spec, self._head_address, python=self.python,
                             token_path=token_path_if_any(), name=f"{self.name}-worker")

    def _submit(self, script: str) -> str:
        with tempfile.NamedTemporaryFile("w", suffix=".sh", dir=self._workdir,
                                         delete=False) as f:
            f.write(script)
        done = subprocess.run([self.submit_command, f.name], capture_output=True, text=True,
                              cwd=self._workdir)
        if done.returncode != 0:
            raise RuntimeError(f"{self.submit_command} {f.name} failed "
                               f"(exit {done.returncode}): {done.stderr.strip()}")
        return self._job_id(done.stdout)

    def _job_id(self, output: str) -> str:
        match = re.search(self.job_id_regex, output)
        if match is None:
            raise RuntimeError(f"no job id in the output of {self.submit_command}: {output!r}")
        return match.group("job_id")

    def _cancel(self, job_ids: list[str]) -> None:
        _cancel_jobs(self.cancel_command, job_ids)

    @property
    def jobs(self) -> list[str]:
        """The ids of the worker jobs submitted and not cancelled, oldest first."""
        return list(self._jobs)

    def scale(self, n=None, jobs=0, memory=None, cores=None) -> None:
        """Have ``n`` worker jobs (or enough for ``cores`` CPUs); extra jobs are cancelled,
        the newest first."""
        if n is None:
            n = jobs
        if cores is not None:
            n = -(-int(cores) // self.spec.cores)
        if memory is not None and self.spec.memory_bytes:
            from dask.utils import parse_bytes

            n = max(n, -(-parse_bytes(memory) // self.spec.memory_bytes))
        n = int(n)
        if n < 0:
            raise ValueError(f"scale needs a number of jobs >= 0, got {n}")
        if self.status != "running":
            raise RuntimeError(f"the cluster is {self.status}")
        script = self.job_script()
        while len(self._jobs) < n:
            self._jobs.append(self._submit(script))
        if len(self._jobs) > n:
            extra = self._jobs[n:]
            del self._jobs[n:]  # in place: the exit-time finalizer holds this list
            self._cancel(extra)

    def close(self) -> None:
        """Cancel every job and stop the head."""
        if self.status == "closed":
            return
        self._finalizer()  # cancels the jobs and stops the head
        self.status = "closed"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.scheduler_address!r}, jobs={len(self._jobs)}, "
                f"cores={self.spec.cores}, status={self.status})")


def _cancel_jobs(cancel_command: str, *job_lists: list[str]) -> None:
    """Cancel the jobs in ``job_lists`` and empty the lists."""
    job_ids = [job for jobs in job_lists for job in jobs]
    if job_ids:
        subprocess.run([cancel_command, *job_ids], capture_output=True, text=True)
    for jobs in job_lists:
        jobs.clear()


def _release(cancel_command: str, jobs: list[str], head_job: list[str], head_node: list) -> None:
    """Everything a cluster holds: its jobs, and the head it runs here."""
    _cancel_jobs(cancel_command, jobs, head_job)
    for node in head_node:
        node.stop()
    head_node.clear()


class SLURMCluster(JobQueueCluster):
    """Ray nodes as Slurm jobs (``sbatch`` / ``scancel``).

    >>> cluster = SLURMCluster(cores=8, memory="32GB", queue="normal")  # doctest: +SKIP
    >>> cluster.scale(4)                                                 # doctest: +SKIP
    """

    kind = "slurm"
    submit_command = "sbatch"
    cancel_command = "scancel"


class PBSCluster(JobQueueCluster):
    """Ray nodes as PBS jobs (``qsub`` / ``qdel``); ``resource_spec`` overrides the
    ``-l select=1:ncpus=..:mem=..`` line.

    >>> cluster = PBSCluster(cores=24, memory="100GB", queue="regular")  # doctest: +SKIP
    >>> cluster.scale(10)                                                 # doctest: +SKIP
    """

    kind = "pbs"
    submit_command = "qsub"
    cancel_command = "qdel"
    job_id_regex = r"(?P<job_id>\d+(?:\.[\w.-]+)?)"  # "1234.server"
