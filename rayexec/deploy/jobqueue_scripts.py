"""Job scripts for HPC batch systems (Slurm, PBS) that start Ray nodes.

A job runs one Ray node in the foreground (``ray start --block``): a worker
joining the head at an address, or the head itself.  The batch system's header
lines ask for the node's cores, memory and time; what follows is plain bash.

>>> spec = JobSpec(cores=4, memory="16GB", walltime="01:00:00", queue="normal")
>>> print(slurm_header(spec, "rayexec-worker"))
#!/usr/bin/env bash
#SBATCH -J rayexec-worker
#SBATCH -p normal
#SBATCH -n 1
#SBATCH --cpus-per-task=4
#SBATCH --mem=15G
#SBATCH -t 01:00:00
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field

from dask.utils import parse_bytes


@dataclass
class JobSpec:
    """What one job asks the batch system for, in dask-jobqueue's terms."""

    cores: int
    memory: str | None = None  # "16GB"; the node's Ray memory resource too
    walltime: str | None = None  # "HH:MM:SS"
    queue: str | None = None
    account: str | None = None  # Slurm -A, PBS -A (dask-jobqueue's project/account)
    job_extra_directives: list[str] = field(default_factory=list)
    job_script_prologue: list[str] = field(default_factory=list)
    log_directory: str | None = None
    shebang: str = "#!/usr/bin/env bash"
    resource_spec: str | None = None  # PBS -l value; default select=1:ncpus=..:mem=..

    def __post_init__(self):
        if not isinstance(self.cores, int) or self.cores < 1:
            raise ValueError(f"cores must be a positive int, got {self.cores!r}")
        if self.memory is not None:
            parse_bytes(self.memory)  # a clear error now rather than in the job

    @property
    def memory_bytes(self) -> int | None:
        return None if self.memory is None else parse_bytes(self.memory)


def slurm_header(spec: JobSpec, name: str) -> str:
    """``#SBATCH`` lines for one single-task job of ``spec.cores`` CPUs."""
    lines = [spec.shebang, f"#SBATCH -J {name}"]
    if spec.log_directory:
        lines += [f"#SBATCH -e {spec.log_directory}/%x-%j.err",
                  f"#SBATCH -o {spec.log_directory}/%x-%j.out"]
    if spec.queue:
        lines.append(f"#SBATCH -p {spec.queue}")
    if spec.account:
        lines.append(f"#SBATCH -A {spec.account}")
    lines += ["#SBATCH -n 1", f"#SBATCH --cpus-per-task={spec.cores}"]
    if spec.memory_bytes:
        # Whole GiB (MiB for small requests), rounded up, as dask-jobqueue writes it.
        gib, mib = -(-spec.memory_bytes // 2**30), -(-spec.memory_bytes // 2**20)
        lines.append(f"#SBATCH --mem={gib}G" if spec.memory_bytes >= 2**30
                     else f"#SBATCH --mem={mib}M")
    if spec.walltime:
        lines.append(f"#SBATCH -t {spec.walltime}")
    lines += [f"#SBATCH {d}" for d in spec.job_extra_directives]
    return "\n".join(lines)


def pbs_header(spec: JobSpec, name: str) -> str:
    """``#PBS`` lines for one job of ``spec.cores`` CPUs (PBS Pro ``select`` syntax)."""
    lines = [spec.shebang, f"#PBS -N {name}"]
    if spec.queue:
        lines.append(f"#PBS -q {spec.queue}")
    if spec.account:
        lines.append(f"#PBS -A {spec.account}")
    resources = spec.resource_spec or _pbs_select(spec)
    lines.append(f"#PBS -l {resources}")
    if spec.walltime:
        lines.append(f"#PBS -l walltime={spec.walltime}")
    if spec.log_directory:
        lines += [f"#PBS -e {spec.log_directory}/", f"#PBS -o {spec.log_directory}/"]
    lines += [f"#PBS {d}" for d in spec.job_extra_directives]
    return "\n".join(lines)


def _pbs_select(spec: JobSpec) -> str:
    select = f"select=1:ncpus={spec.cores}"
    if spec.memory_bytes:
        select += f":mem={max(1, spec.memory_bytes // 2**30)}GB"
    return select


HEADERS = {"slurm": slurm_header, "pbs": pbs_header}


def auth_lines(token_path: str | None) -> list[str]:
    """Token mode for the node, with the token the head wrote (on a shared home)."""
    if token_path is None:
        return []
    return ["export RAY_AUTH_MODE=token",
            f"export RAY_AUTH_TOKEN_PATH={shlex.quote(token_path)}"]


# Draining on SIGTERM exists for Ray Serve; a cancelled job's node stops at once.
_NO_DRAIN = "export RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=0"


def _free_ports_line(python: str) -> str:
    # Several jobs may share a machine and start together: Ray's fixed default
    # agent port would clash, and so may two ports the OS hands out in sequence
    # (bind to port 0), so each is drawn at random and checked free.
    code = ("import random, socket\n"
            "for name in ('NODE_MANAGER_PORT', 'AGENT_PORT'):\n"
            "    while True:\n"
            "        port = random.randint(20000, 59999)\n"
            "        with socket.socket() as s:\n"
            "            try:\n"
            "                s.bind(('', port))\n"
            "            except OSError:\n"
            "                continue\n"
            "        print(f'{name}={port}')\n"
            "        break")
    return f"eval \"$({shlex.quote(python)} -c {shlex.quote(code)})\""


def _ray_start(python: str, spec: JobSpec, args: list[str]) -> str:
    command = [python, "-m", "ray.scripts.scripts", "start", "--block",
               "--disable-usage-stats", f"--num-cpus={spec.cores}", *args]
    if spec.memory_bytes:
        command.append(f"--memory={spec.memory_bytes}")
    quoted = " ".join(shlex.quote(c) for c in command)
    return (f"{quoted} --node-manager-port=$NODE_MANAGER_PORT"
            " --dashboard-agent-listen-port=$AGENT_PORT")


# Ray names a new node's sockets in sequence (raylet, raylet.1, ...) without a
# lock: two jobs starting nodes on one machine at once can pick the same name and
# one raylet dies.  So a node starts under a lock held until it is up; then the
# job waits on it, passing the batch system's SIGTERM on so that it stops cleanly.
_START_UNDER_LOCK = """\
RAY_OUT=$(mktemp)
exec 9>"${{TMPDIR:-/tmp}}/rayexec-node-start.lock"
command -v flock >/dev/null && flock 9
{start} >"$RAY_OUT" 2>&1 9>&- &
RAY_PID=$!
until grep -q "Ray runtime started" "$RAY_OUT" || ! kill -0 $RAY_PID 2>/dev/null; do
    sleep 0.5
done
exec 9>&-
cat "$RAY_OUT"
trap 'kill -TERM $RAY_PID' TERM INT
wait $RAY_PID
wait $RAY_PID
"""


def _start_lines(python: str, spec: JobSpec, args: list[str]) -> str:
    return _START_UNDER_LOCK.format(start=_ray_start(python, spec, args)).rstrip("\n")


def worker_script(kind: str, spec: JobSpec, address: str, python: str = sys.executable,
                  token_path: str | None = None, name: str = "rayexec-worker") -> str:
    """A job that runs a Ray worker node joined to the head at ``address`` ("host:port").

    >>> script = worker_script("slurm", JobSpec(cores=2), "10.0.0.1:6379", python="python3")
    >>> next(line for line in script.splitlines() if "ray.scripts.scripts" in line)
    'python3 -m ray.scripts.scripts start --block --disable-usage-stats --num-cpus=2 \
--address=10.0.0.1:6379 --node-manager-port=$NODE_MANAGER_PORT \
--dashboard-agent-listen-port=$AGENT_PORT >"$RAY_OUT" 2>&1 9>&- &'
    """
    body = [HEADERS[kind](spec, name), "", *spec.job_script_prologue,
            *auth_lines(token_path), _NO_DRAIN, _free_ports_line(python),
            _start_lines(python, spec, [f"--address={address}"])]
    return "\n".join(body) + "\n"


def head_script(kind: str, spec: JobSpec, port: int, address_file: str,
                python: str = sys.executable, token_path: str | None = None,
                name: str = "rayexec-head") -> str:
    """A job that runs the Ray head at ``port`` and, once it is up, writes its
    ``host:port`` to ``address_file`` (on a file system the submitting machine sees)."""
    resolve = ("from ray.util import get_node_ip_address as ip; print(ip())")
    ready = " ".join(shlex.quote(c) for c in [python, "-m", "ray.scripts.scripts", "status",
                                              "--address=$HEAD_ADDRESS"])
    ready = ready.replace("'--address=$HEAD_ADDRESS'", '"--address=$HEAD_ADDRESS"')
    target = shlex.quote(address_file)
    body = [
        HEADERS[kind](spec, name), "", *spec.job_script_prologue, *auth_lines(token_path),
        _NO_DRAIN,
        f"HEAD_ADDRESS=$({shlex.quote(python)} -c {shlex.quote(resolve)}):{int(port)}",
        _free_ports_line(python),
        # Announce the address only once the head answers, so that a Client
        # reading the file can connect at once.
        f"( until {ready} >/dev/null 2>&1; do sleep 1; done;"
        f' echo "$HEAD_ADDRESS" > {target}.tmp && mv {target}.tmp {target} ) &',
        _start_lines(python, spec, ["--head", f"--port={int(port)}",
                                    "--include-dashboard=false"]),
    ]
    return "\n".join(body) + "\n"


def token_path_if_any() -> str | None:
    """The Ray token this machine's head uses, if one exists (``~/.ray/auth_token``)."""
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.expanduser("~/.ray/auth_token")
    return path if os.path.exists(path) else None
