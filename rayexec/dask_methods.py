"""Client methods for dask graphs and collections: get, compute, persist."""

from __future__ import annotations


class DaskMethods:
    """Mixed into :class:`rayexec.Client`."""

    def _activate_dask(self) -> None:
        """Called when this client becomes the default: make dask compute on it."""

    def _deactivate_dask(self) -> None:
        """Called when this client closes: give dask back its previous scheduler."""
