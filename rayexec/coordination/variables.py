"""Variable: one value shared by name across clients and tasks.

A Future set into a Variable carries its data: ``get`` on another client gives
a Future there reading the same result.

>>> x = Variable("x")                    # doctest: +SKIP
>>> x.set(client.submit(pow, 2, 10))     # doctest: +SKIP
>>> x.get().result()                     # doctest: +SKIP
1024
"""

from __future__ import annotations

from ..timeouts import parse_timeout
from .named import Named, call, pack, run, unpack


class Variable(Named):
    """A named, mutable value on the cluster; ``get`` waits until it is set.

    >>> x = Variable("x")   # doctest: +SKIP
    >>> x.set(123)          # doctest: +SKIP
    >>> x.get()             # doctest: +SKIP
    123
    """

    kind = "variable"

    def set(self, value, timeout="30 s", **kwargs):
        """Replace the value (a Future, or any picklable object)."""
        return run(self.client, call, "var_set", self.name, pack(value))

    def get(self, timeout=None, **kwargs):
        """The value, waiting up to ``timeout`` for a first ``set`` (then ``TimeoutError``)."""
        return run(self.client, self._get, parse_timeout(timeout))

    def _get(self, timeout):
        return unpack(call("var_get", self.name, timeout), self.client)

    def delete(self):
        """Forget the value, for every client."""
        return run(self.client, call, "var_delete", self.name)

    def __reduce__(self):
        return Variable, (self.name,)

    def __repr__(self) -> str:
        return f"<Variable: {self.name}>"
