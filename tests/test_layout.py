"""The layout's import rules (pyproject.toml's [tool.importlinter]) hold: wings use the
core, the Client composes the wings, no import cycles, the shim only re-exports rayexec."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_import_contracts_are_kept():
    lint = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    # the shim first on the path, so `distributed` in the contracts is rayexec's shim
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(ROOT, "compat"), ROOT])}
    done = subprocess.run([lint], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout, done.stdout


def test_test_modules_have_unique_names():
    # pytest imports a test module by its bare name from its own folder (and Ray's
    # workers import it so too): two folders with the same file name collide
    names = {}
    for folder, _, files in os.walk(os.path.join(ROOT, "tests")):
        for name in files:
            if name.startswith("test_") and name.endswith(".py"):
                assert name not in names, f"{name} is in {names.get(name)} and {folder}"
                names[name] = folder
