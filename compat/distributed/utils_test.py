"""``distributed.utils_test``: the test helpers libraries' own tests use; re-exports from rayexec."""

from rayexec.utils_test import *  # noqa: F401,F403
