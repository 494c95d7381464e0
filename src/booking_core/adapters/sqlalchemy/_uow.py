"""The SQLAlchemy unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, RootTransaction

from booking_core.adapters.sqlalchemy._errors import translated
from booking_core.adapters.sqlalchemy._repositories import (
    Db,
    SqlAddOnRepository,
    SqlBlackoutRepository,
    SqlBookingRepository,
    SqlCustomerRepository,
    SqlPackageRepository,
    SqlSegmentRepository,
    SqlTenantRepository,
    SqlVenueRepository,
)
from booking_core.adapters.sqlalchemy.tables import metadata


class SqlUnitOfWork:
    """A transaction over all repositories on one pooled connection."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None

    def __enter__(self) -> Self:
        with translated():
            connection = self._engine.connect()
            try:
                if self._read_only:
                    connection.execution_options(booking_core_read_only=True)
                self._transaction = connection.begin()
            except BaseException:
                connection.close()
                raise
        self._connection = connection
        db = Db(connection)
        self.tenants = SqlTenantRepository(db)
        self.segments = SqlSegmentRepository(db)
        self.packages = SqlPackageRepository(db)
        self.add_ons = SqlAddOnRepository(db)
        self.venues = SqlVenueRepository(db)
        self.customers = SqlCustomerRepository(db)
        self.bookings = SqlBookingRepository(db)
        self.blackouts = SqlBlackoutRepository(db)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if self._transaction is not None and self._transaction.is_active:
                with translated():
                    self._transaction.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        if self._transaction is not None:
            with translated():
                self._transaction.commit()

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            with translated():
                self._transaction.rollback()


class SqlUnitOfWorkFactory:
    """Opens :class:`SqlUnitOfWork` on one engine; owns schema creation and disposal."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)

    def create_schema(self) -> None:
        """Create booking_core's tables and indexes if they are missing (idempotent)."""
        with translated():
            metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
