"""Shared state on the cluster: Lock, Semaphore, Event, Queue, Variable, published datasets,
metadata and events, all kept by one named Ray actor (:mod:`.named`)."""
