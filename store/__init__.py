"""Persistence: SQLAlchemy Core tables, units of work, migrations and the audit chain."""
from sqlalchemy.engine import Connection

from .database import DEFAULT_URL, Store, resolve_url

__all__ = ["Store", "Connection", "DEFAULT_URL", "resolve_url"]
