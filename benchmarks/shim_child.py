"""One system's measurements in a fresh process, for the benchmarks that run a
library on ``distributed``: the shim is on ``PYTHONPATH`` for rayexec only, so
the same ``import distributed`` reaches the real package or rayexec."""

from __future__ import annotations

import json
import os
import subprocess
import sys

COMPAT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "compat")


def run_child(script: str, system: str, args: list[str], timeout: float) -> dict:
    """Run ``script --child system *args``; the JSON report it prints last."""
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != COMPAT]
    if system == "rayexec":
        paths.insert(0, COMPAT)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    done = subprocess.run([sys.executable, script, "--child", system, *args],
                          env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{system} run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
