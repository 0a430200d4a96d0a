"""``distributed.compatibility``: the platform flags distributed's code and tests read."""

import sys

LINUX = sys.platform.startswith("linux")
MACOS = sys.platform == "darwin"
WINDOWS = sys.platform.startswith("win")
