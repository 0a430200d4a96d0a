"""A quiet, honest terminal: Ray's notices about what it did on its own stay out of a
rayexec program's output, unless Ray's log level is debug."""

import logging
import re

import dask
from conftest import run_script

from rayexec.deploy.ray_logs import CONFIG_KEY, NOTICES, quiet_ray

NOISE = ("Token authentication is enabled", "SIGTERM handler is not set",
         "Overwriting previous Ray address", "\x1b[")


def test_a_program_prints_its_own_output_and_no_ray_notices():
    done = run_script("quiet_terminal.py", env={"RAY_COLOR_PREFIX": None,
                                                 "DASK_RAYEXEC__RAY_LOG_LEVEL": None})
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "async result printed by a task" in done.stdout
    assert "two workers 2" in done.stdout
    # the task's own print, forwarded by Ray with its plain prefix
    assert any(re.fullmatch(r"\([\w-]+ pid=\d+\) printed by a task", line)
               for line in output.splitlines()), output
    assert [n for n in NOISE if n in output] == [], output[-3000:]


class Records(logging.Handler):
    """The records reaching Ray's logger (it does not propagate to the root logger)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_the_notices_are_debug_records_shown_at_the_debug_level():
    name, notice = NOTICES[-1]
    seen = Records()
    logging.getLogger("ray").addHandler(seen)
    try:
        with dask.config.set({CONFIG_KEY: "debug"}):
            assert quiet_ray()["logging_level"] == logging.DEBUG
            logging.getLogger(name).warning(notice + " (example)")
        assert [r.levelname for r in seen.records] == ["DEBUG"]
        assert quiet_ray()["logging_level"] == logging.WARNING
        logging.getLogger(name).warning(notice + " (example)")
        logging.getLogger(name).warning("another warning")
        assert [r.getMessage() for r in seen.records[1:]] == ["another warning"]
    finally:
        logging.getLogger("ray").removeHandler(seen)
        quiet_ray()  # the session's default level again


def test_a_misspelt_level_is_refused_naming_the_setting():
    import pytest

    with dask.config.set({CONFIG_KEY: "loud"}), pytest.raises(ValueError, match=CONFIG_KEY):
        quiet_ray()
