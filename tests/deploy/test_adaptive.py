"""cluster.scale() and cluster.adapt() end to end, in a distributed program run
unchanged through the shim: a local cluster grows while busy and shrinks when idle."""

from conftest import json_report, run_script

from rayexec.deploy.shim import compat_dir


def test_scale_and_adapt_of_a_distributed_program_through_the_shim():
    out = run_script("adapt_local.py", timeout=600, env={"PYTHONPATH": compat_dir()})
    assert out.returncode == 0, out.stderr[-3000:]
    report = json_report(out.stdout)
    assert report == {"shim": True, "scaled_up": True, "scaled_down": True, "grew": True,
                      "results": True, "shrank": True, "after": 3}, report
