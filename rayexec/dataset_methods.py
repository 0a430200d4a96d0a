"""Client methods for data shared between clients: published datasets and collections."""

from __future__ import annotations


class DatasetMethods:
    """Mixed into :class:`rayexec.Client`."""
