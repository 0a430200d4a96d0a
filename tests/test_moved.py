"""The first release's module paths still import, as the modules that now hold them."""

import importlib
import sys

import pytest

from rayexec.moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_path_gives_the_moved_module(old):
    sys.modules.pop(f"rayexec.{old}", None)  # an earlier import would hide the warning
    with pytest.warns(DeprecationWarning, match=f"rayexec.{MOVED[old]}"):
        module = importlib.import_module(f"rayexec.{old}")
    assert module is importlib.import_module(f"rayexec.{MOVED[old]}")


def test_from_import_of_an_old_path_warns_with_the_new_one():
    sys.modules.pop("rayexec.jobqueue", None)
    with pytest.warns(DeprecationWarning, match="rayexec.deploy.jobqueue"):
        from rayexec.jobqueue import SLURMCluster
    from rayexec.deploy.jobqueue import SLURMCluster as moved

    assert SLURMCluster is moved


def test_unknown_module_still_fails():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("rayexec.no_such_module")
