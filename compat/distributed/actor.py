"""``distributed.actor``: re-exports from rayexec."""

from rayexec import Actor, ActorFuture, BaseActorFuture  # noqa: F401
