"""dask graphs over more data than the object store holds: Ray spills, parts stay bounded."""


from conftest import json_report, run_script


def test_workloads_larger_than_the_object_store_finish_with_right_answers():
    out = run_script("memory_spill.py", timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]  # a negative code: killed by the OS
    report = json_report(out.stdout)
    assert abs(report["sum"] - 0.5) < 0.01  # mean of 4x the store of uniform randoms
    assert abs(report["transpose"] - 1.0) < 0.01  # x + x.T: a sum of two uniforms
    assert report["groupby_matches"]
    by_key, whole = report["groupby_total"]
    assert abs(by_key - whole) < 1e-6 * whole
