"""Persistence: the tables, units of work on the DB-API driver, migrations and the audit chain."""
from .database import DEFAULT_URL, Store, resolve_url
from .link import Link as Connection

__all__ = ["Store", "Connection", "DEFAULT_URL", "resolve_url"]
