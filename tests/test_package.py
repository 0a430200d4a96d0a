"""The package: public names, no side effects at import, the demo command."""

import ast
import os
import re
import subprocess
import sys
import sysconfig
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import rayexec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PUBLIC = ["Client", "Executor", "Future", "wait", "as_completed", "progress",
          "fire_and_forget", "futures_of", "default_client", "get_client",
          "CancelledError", "FutureCancelledError", "TimeoutError"]


def test_public_names():
    for name in PUBLIC:
        assert getattr(rayexec, name) is not None
    assert rayexec.Executor is rayexec.Client


def test_import_does_not_start_or_import_ray():
    code = ("import sys, rayexec; from rayexec import Client, wait, progress; "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_error_types_are_distributed_compatible():
    import concurrent.futures

    assert rayexec.CancelledError is concurrent.futures.CancelledError
    assert issubclass(rayexec.FutureCancelledError, concurrent.futures.CancelledError)
    assert rayexec.TimeoutError is TimeoutError


def _quick_start() -> tuple[str, str]:
    """The README's two commands: set up and run the demo; set up and run the tests."""
    with open(os.path.join(ROOT, "README.md")) as f:
        section = f.read().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    demo, tests = re.findall(r"^    (python3\.11 .*)$", section, re.M)
    return demo, tests


def test_readme_commands_set_up_what_they_run():
    demo, tests = _quick_start()
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        ci = f.read().strip().splitlines()[-1]
    assert tests == ci  # CI runs the README's test command, on a fresh clone
    assert "[test]" not in demo and demo.endswith("-m rayexec demo")  # no extras needed


def _test_only_modules() -> set[str]:
    """Top-level modules of the test extras that no runtime dependency brings along."""
    def requirements(name, extra=None):
        found = set()
        for text in metadata.requires(name) or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": extra or ""}):
                found |= {canonicalize_name(req.name)} | {
                    canonicalize_name(f"{req.name}[{e}]") for e in req.extras}
        return found

    def closure(roots):
        seen, todo = set(), list(roots)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            base, _, extra = name.partition("[")
            try:
                todo.extend(requirements(base, extra.rstrip("]") or None))
            except metadata.PackageNotFoundError:
                pass
        return {n.partition("[")[0] for n in seen}

    runtime = closure(requirements("rayexec"))
    test_only = closure(requirements("rayexec", "test")) - runtime
    return {module for module, dists in metadata.packages_distributions().items()
            if module.isidentifier() and {canonicalize_name(d) for d in dists} <= test_only}


def test_demo_walks_the_seed_workflow_without_the_test_extras(tmp_path):
    hidden = _test_only_modules()
    assert {"distributed", "pandas", "pytest"} <= hidden
    # The demo's process, and the Ray workers it starts, cannot import them.
    # (Copies vendored elsewhere, such as Ray's own psutil, stay visible.)
    (tmp_path / "sitecustomize.py").write_text(
        "import os, sys\n"
        "from importlib.machinery import PathFinder\n"
        "class HideTestExtras:\n"
        f"    names, site = {sorted(hidden)!r}, {sysconfig.get_paths()['purelib']!r}\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if path is not None or name not in self.names:\n"
        "            return None\n"
        "        elsewhere = [p for p in sys.path if os.path.realpath(p or '.') != self.site]\n"
        "        spec = PathFinder.find_spec(name, elsewhere)\n"
        "        if spec is None:\n"
        "            raise ModuleNotFoundError(f'{name} is a test extra', name=name)\n"
        "        return spec\n"
        "sys.meta_path.insert(0, HideTestExtras())\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "rayexec", "demo"], capture_output=True,
                         text=True, timeout=240, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    for expected in ("[2]", "[1, 2, 3, 4, 5]", "[90]", "ZeroDivisionError",
                     "return x / y", "cancelled", "42"):
        assert expected in out.stdout
    # as_completed's step prints what its label says: the keys, as they complete
    lines = out.stdout.splitlines()
    label = next(i for i, line in enumerate(lines) if "[f.key for f in as_completed" in line)
    keys = ast.literal_eval(lines[label + 1].strip())
    assert len(keys) == 3 and all(k.startswith("sleep-") for k in keys)
