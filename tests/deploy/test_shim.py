"""``rayexec shim on`` / ``off`` in a scratch environment: the shim serves programs,
the real distributed keeps its ``dask scheduler`` / ``dask worker`` commands, and
turning it on and off again leaves the environment as it was."""

import hashlib
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from rayexec.deploy.shim import compat_dir

pytest.importorskip("distributed")  # the real package, whose commands must survive
DASK_SCRIPT = os.path.join(os.path.dirname(sys.executable), "dask")


@pytest.fixture
def scratch_env(tmp_path):
    """A venv of its own whose Python also sees this environment's packages."""
    root = tmp_path / "env"
    venv.create(root, with_pip=False)
    python = str(root / "bin" / "python")
    site_dir = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    # addsitedir (not a plain path line) also runs this environment's .pth files,
    # among them the editable install of rayexec.
    (Path(site_dir) / "packages.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    return python, site_dir


def run(python, *args):
    done = subprocess.run([python, *args], capture_output=True, text=True, timeout=180,
                          env={k: v for k, v in os.environ.items()
                               if k not in ("PYTHONPATH", "RAYEXEC_SHIM")})
    return done.returncode, done.stdout, done.stderr


def snapshot(python, site_dir):
    """What shim on/off could change: the site directory's files, a program's view
    of distributed, and the dask command."""
    files = {}
    for folder, _, names in os.walk(site_dir):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, site_dir)] = hashlib.sha256(f.read()).hexdigest()
    return {
        "files": files,
        "program": run(python, "-c", "import sys, distributed; "
                                     "print(distributed.__file__); print(sys.path)"),
        "dask": run(python, DASK_SCRIPT, "--help"),
    }


def dask_commands_work(python):
    """The real distributed's commands, without a warning."""
    for args, option in (([DASK_SCRIPT, "scheduler", "--help"], "--port"),
                         ([DASK_SCRIPT, "worker", "--help"], "--nthreads"),
                         (["-m", "dask", "scheduler", "--help"], "--port")):
        code, out, err = run(python, *args)
        assert code == 0 and option in out, (args, out, err)
        assert "Warning" not in err, (args, err)


def test_shim_on_keeps_the_dask_commands_and_off_restores_the_environment(scratch_env):
    python, site_dir = scratch_env
    before = snapshot(python, site_dir)
    assert not before["program"][1].startswith(compat_dir())
    code, out, err = run(python, "-m", "rayexec", "shim", "on")
    assert code == 0, err
    try:
        code, out, err = run(python, "-c", "import distributed; print(distributed.__file__)")
        assert out.startswith(compat_dir()), out + err
        dask_commands_work(python)
        code, out, err = run(python, DASK_SCRIPT, "--help")
        assert code == 0 and "scheduler" in out and "worker" in out and not err, err
    finally:
        code, out, err = run(python, "-m", "rayexec", "shim", "off")
    assert code == 0 and "removed" in out, out + err
    assert snapshot(python, site_dir) == before
