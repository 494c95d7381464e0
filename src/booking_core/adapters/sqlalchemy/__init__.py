"""SQLAlchemy 2 adapter for SQLite (embedded default) and PostgreSQL (psycopg 3).

Host apps can add :data:`metadata` to their own migrations, or call
:meth:`SqlUnitOfWorkFactory.create_schema`.
"""

from booking_core.adapters.sqlalchemy._engine import make_engine
from booking_core.adapters.sqlalchemy._uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from booking_core.adapters.sqlalchemy.tables import metadata

__all__ = ["SqlUnitOfWork", "SqlUnitOfWorkFactory", "make_engine", "metadata"]
