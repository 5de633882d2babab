"""Scheduled work: building digests and the outbox sender. Plain async functions taking ``now``."""
