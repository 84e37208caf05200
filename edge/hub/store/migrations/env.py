"""Alembic's entry: runs the migrations on the connection the hub hands over (no alembic.ini)."""
from alembic import context

from edge.hub.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
