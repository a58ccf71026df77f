"""Alembic's environment: the connection comes from :func:`pipeline.service.db.migrate`, or, for
``alembic`` on the command line, from ``sqlalchemy.url``."""

from alembic import context
from sqlalchemy import create_engine

from pipeline.service.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
