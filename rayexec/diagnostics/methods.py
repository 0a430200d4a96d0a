"""The Client's diagnostics methods: what runs where, and with which software."""

from __future__ import annotations

from ..asynchronous import async_capable
from . import versions


class DiagnosticsMethods:
    """Mixin of :class:`rayexec.Client`: diagnostics distributed's Client offers.

    Relies on the Client's ``run`` and ``run_on_scheduler``.
    """

    @async_capable
    def get_versions(self, check: bool = False, packages=None, asynchronous=None) -> dict:
        """Python and package versions on the client, the head node and each worker.

        ``packages`` adds package names to report; ``check=True`` raises
        ``ValueError`` naming any required package (Python, Ray, rayexec, dask,
        cloudpickle, toolz, and ``packages``) whose versions differ.

        >>> client.get_versions()["client"]["packages"]["ray"]  # doctest: +SKIP
        '2.60.0'
        """
        extra = tuple(packages or ())
        result = {"scheduler": self.run_on_scheduler(versions.here, extra),
                  "workers": self.run(versions.here, extra),
                  "client": versions.here(extra)}
        differ = versions.mismatches(result, extra)
        if check and differ:
            raise ValueError("Mismatched versions found:\n" + "\n".join(differ))
        return result
