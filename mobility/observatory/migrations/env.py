"""Alembic environment: runs on the connection :func:`mobility.observatory.db.upgrade` passes in."""

from alembic import context

from mobility.observatory.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only programmatic use is supported
    raise RuntimeError("run migrations through mobility.observatory.db.upgrade (or `mobility observatory migrate`)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
