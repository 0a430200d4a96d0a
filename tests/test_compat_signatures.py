"""Signature fidelity: rayexec's Client, Future and functions take what distributed's take.

Compared with ``inspect.signature`` against the real distributed installed here:
same parameter names, kinds, order and defaults (annotations aside).  rayexec may
add parameters with defaults that no distributed call can trip on: keyword-only
ones, or ones after all of distributed's.
"""

import inspect

import pytest

import rayexec
from rayexec.unsupported import CLIENT_METHODS

real = pytest.importorskip("distributed")

# Known differences in modules this suite does not own; each must still differ
# (strict xfail), so fixing one makes its test pass and the entry must go.
MISMATCHES: dict[str, str] = {}


def shape(sig):
    out = []
    for p in sig.parameters.values():
        default = p.default
        if default is not inspect.Parameter.empty and "no_default" in repr(default).lower():
            default = "<no_default>"
        out.append((p.name, p.kind, repr(default)))
    return out


def check(ours, theirs):
    ours_shape = shape(inspect.signature(ours))
    theirs_shape = shape(inspect.signature(theirs))
    extra = [p for p in ours_shape if p[0] not in {t[0] for t in theirs_shape}]
    common = [p for p in ours_shape if p not in extra]
    theirs_private = [t for t in theirs_shape if t[0].startswith("_")]
    assert common == [t for t in theirs_shape if t not in theirs_private], (
        f"\n ours: {inspect.signature(ours)}\n real: {inspect.signature(theirs)}")
    positional = [p[0] for p in ours_shape if p[1] in (inspect.Parameter.POSITIONAL_ONLY,
                                                       inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    last_real = max((positional.index(t[0]) for t in theirs_shape if t[0] in positional),
                    default=-1)
    for name, kind, default in extra:
        assert default != repr(inspect.Parameter.empty), f"extra parameter {name!r} has no default"
        assert kind == inspect.Parameter.KEYWORD_ONLY or positional.index(name) > last_real, \
            f"extra parameter {name!r} must be keyword-only or come after distributed's"


def public_methods(ours_cls, real_cls):
    names = []
    for name, value in inspect.getmembers(ours_cls):
        if name.startswith("_") and name != "__init__":
            continue
        if name in CLIENT_METHODS and ours_cls is rayexec.Client:
            continue  # a placeholder: takes any call and says what to use on Ray
        if not callable(value) or isinstance(inspect.getattr_static(ours_cls, name), property):
            continue
        real_value = getattr(real_cls, name, None)
        if real_value is None or not callable(real_value) or \
                isinstance(inspect.getattr_static(real_cls, name), property):
            continue
        names.append(name)
    return names


CASES = (
    [("Client", n) for n in public_methods(rayexec.Client, real.Client)]
    + [("Future", n) for n in public_methods(rayexec.Future, real.Future)]
    + [("LocalCluster", "__init__")]
    + [(None, n) for n in ("wait", "as_completed", "progress", "futures_of",
                           "fire_and_forget", "default_client", "get_client", "get_worker")]
)


def params():
    for owner, name in CASES:
        case_id = f"{owner}.{name}" if owner else name
        marks = [pytest.mark.xfail(strict=True, reason=MISMATCHES[case_id])] \
            if case_id in MISMATCHES else []
        yield pytest.param(owner, name, id=case_id, marks=marks)


@pytest.mark.parametrize("owner,name", list(params()))
def test_signature_matches_distributed(owner, name):
    if owner is None:
        check(getattr(rayexec, name), getattr(real, name))
    else:
        check(getattr(getattr(rayexec, owner), name), getattr(getattr(real, owner), name))


def test_known_mismatches_are_still_listed():
    ids = {f"{o}.{n}" if o else n for o, n in CASES}
    assert set(MISMATCHES) <= ids, set(MISMATCHES) - ids
