"""The schema, as SQLAlchemy Core tables on one public :data:`metadata`.

Ready to shard by tenant (Citus-style): every primary key, unique constraint and index starts
with ``tenant_id``, and references between a tenant's rows are composite foreign keys that
include ``tenant_id``, so the database refuses a row that points at another tenant's data.

No double booking lives in ``booking_claims``: a booking of a date with capacity *c* must own
one of the seats ``0 … c-1`` of its (tenant, resource, date), and the primary key makes a seat
ownable by one row only. A seat whose hold lapsed can be taken over by a conditional upsert, so an
expired hold frees its date even before the sweeper marks it EXPIRED. Time-slot bookings will add
a slot column to this key.

Time is claimed in ``bc_time_claims``: one row per (booking, resource), over the resource's
*occupied* interval (the booking's time plus its buffers), on one of the resource's ``capacity``
lanes. On PostgreSQL an exclusion constraint (``btree_gist``) refuses two rows of one resource
and lane whose intervals overlap, so a resource of capacity N never holds more than N
overlapping claims, whatever the application does; a unique day seat bounds a package's claims
per local day. A claim has no foreign key to its booking: a timed hold claims its time before it
inserts the booking's row, in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.sql.schema import SchemaItem

from booking_core.adapters.sqlalchemy._types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: All booking_core tables; include it in a host app's Alembic ``target_metadata``.
metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --- the column groups and constraints the tables share ---------------------------------------


def _required(name: str, kind: Any) -> Column[Any]:
    return Column(name, kind, nullable=False)


def _optional(name: str, kind: Any) -> Column[Any]:
    return Column(name, kind, nullable=True)


def _record(*, slug: bool = False, name: bool = True) -> tuple[Column[Any], ...]:
    """``tenant_id``, ``id`` and (as asked) ``slug`` and ``name``: how a tenant's record starts."""
    columns = [_required("tenant_id", Uuid), _required("id", Uuid)]
    if slug:
        columns.append(_required("slug", String(64)))
    if name:
        columns.append(_required("name", String(200)))
    return tuple(columns)


def _owned(*unique: str) -> tuple[SchemaItem, ...]:
    """Key ``(tenant_id, id)``, each of ``unique`` unique inside the tenant, the tenant's row."""
    return (
        PrimaryKeyConstraint("tenant_id", "id"),
        *(UniqueConstraint("tenant_id", column) for column in unique),
        _of_tenant(),
    )


def _of_tenant() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"])


def _refers(column: str, table: str) -> ForeignKeyConstraint:
    """``(tenant_id, column)`` points at a row of ``table`` of the same tenant."""
    return ForeignKeyConstraint(["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"])


def _partial_index(name: str, column: str, where: str) -> Index:
    """``(tenant_id, column)`` over the rows matching ``where`` only, on both backends."""
    return Index(name, "tenant_id", column, postgresql_where=text(where), sqlite_where=text(where))


# --- the tables -------------------------------------------------------------------------------

tenants = Table(
    "bc_tenants",
    metadata,
    Column("id", Uuid, primary_key=True),
    _required("slug", String(64)),
    _required("name", String(200)),
    _required("timezone", String(64)),
    _required("currency", String(3)),
    _required("commission_percent", Numeric(5, 2)),
    _required("active", Boolean),
    _required("capacity_per_date", Integer),
    _required("hold_ttl_seconds", Integer),
    _required("min_notice_days", Integer),
    _required("horizon_days", Integer),
    _required("cancellation", JSON),
    Column("version", BigInteger, nullable=False, server_default="1"),
    _optional("blackout_rules", JSON),  # recurring blackouts (migration 0008); NULL: none
    UniqueConstraint("slug"),
    CheckConstraint("commission_percent >= 0 AND commission_percent <= 50", name="commission"),
    CheckConstraint("capacity_per_date >= 1", name="capacity"),
)

segments = Table(
    "bc_segments",
    metadata,
    *_record(slug=True),
    _required("heading", Text),
    _required("description", Text),
    _required("sort_order", Integer),
    _required("active", Boolean),
    *_owned("slug"),
    Index(None, "tenant_id", "active", "sort_order"),
)

packages = Table(
    "bc_packages",
    metadata,
    *_record(slug=True),
    _required("description", Text),
    _required("base_price", BigInteger),
    _optional("segment_id", Uuid),
    _required("grouping", String(100)),
    _required("group_order", Integer),
    _required("photo_urls", JSON),
    _required("active", Boolean),
    # PackageSchedule (timing in seconds, resource ids, need, assignment); NULL: sells dates
    _optional("schedule", JSON),
    *_owned("slug"),
    _refers("segment_id", "bc_segments"),
    CheckConstraint("base_price >= 0", name="price"),
    Index(None, "tenant_id", "segment_id", "active", "grouping", "group_order"),
)

add_ons = Table(
    "bc_add_ons",
    metadata,
    *_record(slug=True),
    _required("description", Text),
    _required("price", BigInteger),
    _optional("segment_id", Uuid),
    _required("active", Boolean),
    *_owned("slug"),
    _refers("segment_id", "bc_segments"),
    CheckConstraint("price >= 0", name="price"),
)

package_add_ons = Table(
    "bc_package_add_ons",
    metadata,
    _required("tenant_id", Uuid),
    _required("package_id", Uuid),
    _required("add_on_id", Uuid),
    PrimaryKeyConstraint("tenant_id", "package_id", "add_on_id"),
    _refers("package_id", "bc_packages"),
    _refers("add_on_id", "bc_add_ons"),
)

venues = Table(
    "bc_venues",
    metadata,
    *_record(),
    _required("address", String(300)),
    _required("city", String(100)),
    _required("postal_code", String(20)),
    _required("country", String(2)),
    _required("capacity", Integer),
    _required("active", Boolean),
    *_owned("name"),
    CheckConstraint("capacity >= 1", name="capacity"),
)

resources = Table(
    "bc_resources",
    metadata,
    *_record(),
    _required("kind", String(100)),
    _optional("timezone", String(64)),  # NULL: the tenant's
    _required("capacity", Integer),
    _required("active", Boolean),
    _required("hours", JSON),  # WorkingHours.to_primitive()
    *_owned("name"),
    CheckConstraint("capacity >= 1", name="capacity"),
)

resource_time_off = Table(
    "bc_resource_time_off",
    metadata,
    *_record(name=False),
    _required("resource_id", Uuid),
    _required("starts_at", UTCDateTime),
    _required("ends_at", UTCDateTime),
    _required("reason", Text),
    PrimaryKeyConstraint("tenant_id", "id"),
    _refers("resource_id", "bc_resources"),
    CheckConstraint("ends_at > starts_at", name="interval"),
    Index(None, "tenant_id", "resource_id", "starts_at"),
)

customers = Table(
    "bc_customers",
    metadata,
    *_record(),
    _required("email", String(320)),
    _optional("phone", String(20)),
    _required("created_at", UTCDateTime),
    *_owned("email"),
    Index(None, "tenant_id", "created_at"),
)

bookings = Table(
    "bc_bookings",
    metadata,
    *_record(name=False),
    _required("package_id", Uuid),
    _required("customer_id", Uuid),
    _optional("venue_id", Uuid),
    _required("event_date", Date),
    _required("status", String(16)),
    _required("package_price", BigInteger),
    _required("total", BigInteger),
    _required("commission", BigInteger),
    _required("currency", String(3)),
    _required("created_at", UTCDateTime),
    _optional("expires_at", UTCDateTime),
    _optional("confirmed_at", UTCDateTime),
    _optional("canceled_at", UTCDateTime),
    _optional("fulfilled_at", UTCDateTime),
    _optional("payment_ref", String(200)),
    _optional("cancel_reason", Text),
    Column("amount_paid", BigInteger, nullable=False, server_default="0"),
    Column("amount_refunded", BigInteger, nullable=False, server_default="0"),
    Column("commission_refunded", BigInteger, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, server_default="1"),
    # a timed booking's service interval (buffers excluded) and the resources it occupies
    _optional("starts_at", UTCDateTime),
    _optional("ends_at", UTCDateTime),
    _optional("resource_ids", JSON),
    _optional("series_id", Uuid),  # the recurring series of an occurrence (migration 0007)
    PrimaryKeyConstraint("tenant_id", "id"),
    Index(None, "tenant_id", "series_id"),
    _refers("package_id", "bc_packages"),
    _refers("customer_id", "bc_customers"),
    _refers("venue_id", "bc_venues"),
    CheckConstraint(
        "status IN ('PENDING', 'CONFIRMED', 'FULFILLED', 'CANCELED', 'EXPIRED')", name="status"
    ),
    CheckConstraint("total >= 0 AND commission >= 0 AND commission <= total", name="amounts"),
    CheckConstraint(
        "amount_paid >= 0 AND amount_refunded >= 0 AND amount_refunded <= amount_paid"
        " AND commission_refunded >= 0 AND commission_refunded <= commission",
        name="refunds",
    ),
    CheckConstraint(
        "(starts_at IS NULL) = (ends_at IS NULL) AND (starts_at IS NULL OR ends_at > starts_at)",
        name="timed",
    ),
    Index(None, "tenant_id", "event_date"),
    Index(None, "tenant_id", "customer_id"),
    _partial_index("ix_bc_bookings_pending_expiry", "expires_at", "status = 'PENDING'"),
)

booking_add_ons = Table(
    "bc_booking_add_ons",
    metadata,
    _required("tenant_id", Uuid),
    _required("booking_id", Uuid),
    _required("add_on_id", Uuid),
    _required("name", String(200)),
    _required("unit_price", BigInteger),
    _required("quantity", Integer),
    PrimaryKeyConstraint("tenant_id", "booking_id", "add_on_id"),
    _refers("booking_id", "bc_bookings"),
    _refers("add_on_id", "bc_add_ons"),
    CheckConstraint("quantity >= 1 AND unit_price >= 0", name="line"),
)

booking_claims = Table(
    "bc_booking_claims",
    metadata,
    _required("tenant_id", Uuid),
    _required("resource_id", Uuid),
    _required("claim_date", Date),
    _required("seat", Integer),
    _required("booking_id", Uuid),
    _optional("expires_at", UTCDateTime),
    PrimaryKeyConstraint("tenant_id", "resource_id", "claim_date", "seat"),
    _refers("booking_id", "bc_bookings"),
    CheckConstraint("seat >= 0", name="seat"),
    Index(None, "tenant_id", "booking_id"),
)

blackout_dates = Table(
    "bc_blackout_dates",
    metadata,
    _required("tenant_id", Uuid),
    _required("date", Date),
    _required("reason", Text),
    PrimaryKeyConstraint("tenant_id", "date"),
    _of_tenant(),
)

refunds = Table(
    "bc_refunds",
    metadata,
    *_record(name=False),
    _required("booking_id", Uuid),
    _required("amount", BigInteger),
    _required("commission_refund", BigInteger),
    _required("reason", Text),
    _required("state", String(16)),
    _required("created_at", UTCDateTime),
    _required("updated_at", UTCDateTime),
    _optional("provider_refund_id", String(200)),
    _optional("failure_reason", Text),
    _required("attempts", Integer),
    PrimaryKeyConstraint("tenant_id", "id"),
    _refers("booking_id", "bc_bookings"),
    CheckConstraint("amount > 0 AND commission_refund >= 0", name="amounts"),
    CheckConstraint("state IN ('PENDING', 'SUCCEEDED', 'FAILED')", name="state"),
    Index(None, "tenant_id", "booking_id"),
    # One row per refund the provider made: two reports of one dashboard refund, or its report
    # racing our own record of it, can never count it twice (NULLs, not yet executed, repeat).
    Index(None, "tenant_id", "provider_refund_id", unique=True),
    _partial_index("ix_bc_refunds_unsettled", "created_at", "state <> 'SUCCEEDED'"),
)

idempotency_keys = Table(
    "bc_idempotency_keys",
    metadata,
    _required("tenant_id", Uuid),
    _required("key", String(255)),
    _required("request_hash", String(64)),
    _optional("booking_id", Uuid),
    _required("created_at", UTCDateTime),
    _required("expires_at", UTCDateTime),
    PrimaryKeyConstraint("tenant_id", "key"),
    _of_tenant(),
    Index(None, "tenant_id", "expires_at"),
)

webhook_inbox = Table(
    "bc_webhook_inbox",
    metadata,
    _required("tenant_id", Uuid),
    _required("provider", String(50)),
    _required("event_id", String(255)),
    _required("event_type", String(100)),
    _required("payload", LargeBinary),
    _required("state", String(16)),
    _required("received_at", UTCDateTime),
    _required("attempts", Integer),
    _optional("last_error", Text),
    _optional("processed_at", UTCDateTime),
    _optional("outcome", String(100)),
    _required("details", JSON),
    PrimaryKeyConstraint("tenant_id", "provider", "event_id"),
    _of_tenant(),
    CheckConstraint("state IN ('PENDING', 'PROCESSED', 'FAILED')", name="state"),
    _partial_index("ix_bc_webhook_inbox_failed", "received_at", "state = 'FAILED'"),
)

outbox = Table(
    "bc_outbox",
    metadata,
    *_record(name=False),
    _required("booking_id", Uuid),
    _required("sequence", Integer),
    _required("type", String(50)),
    _required("payload", JSON),
    _required("created_at", UTCDateTime),
    _required("attempts", Integer),
    _optional("claimed_until", UTCDateTime),
    _optional("done_at", UTCDateTime),
    _optional("last_error", Text),
    PrimaryKeyConstraint("tenant_id", "id"),
    _refers("booking_id", "bc_bookings"),
    UniqueConstraint("tenant_id", "booking_id", "sequence"),
    _partial_index("ix_bc_outbox_undelivered", "created_at", "done_at IS NULL"),
)

tenant_api_keys = Table(
    "bc_tenant_api_keys",
    metadata,
    *_record(name=False),
    _required("key_hash", String(64)),
    _required("label", String(200)),
    _required("created_at", UTCDateTime),
    _optional("revoked_at", UTCDateTime),
    *_owned("key_hash"),
)

calendar_feeds = Table(
    "bc_calendar_feeds",
    metadata,
    *_record(name=False),
    _optional("resource_id", Uuid),  # NULL: the tenant's whole calendar
    _required("label", String(200)),
    _required("token_hash", String(64)),
    _required("include_holds", Boolean),
    _required("include_contact", Boolean),
    _required("created_at", UTCDateTime),
    _optional("revoked_at", UTCDateTime),
    *_owned("token_hash"),
    _refers("resource_id", "bc_resources"),
)

#: The name of the exclusion constraint that keeps a lane's claims from overlapping.
TIME_CLAIMS_NO_OVERLAP = "ex_bc_time_claims_lane_overlap"

#: The columns the slot search reads besides the index key (``ClaimSpan``'s fields).
_SLOT_SEARCH_COLUMNS = ["ends_at", "lane", "claim_day", "package_id", "expires_at"]

time_claims = Table(
    "bc_time_claims",
    metadata,
    _required("tenant_id", Uuid),
    _required("booking_id", Uuid),
    _required("resource_id", Uuid),
    _required("package_id", Uuid),
    _required("lane", Integer),
    _required("starts_at", UTCDateTime),  # the occupied interval: buffers included
    _required("ends_at", UTCDateTime),
    _required("claim_day", Date),  # the start's date in the resource's zone
    _optional("day_seat", Integer),  # of the package's day limit; NULL: no limit
    _optional("expires_at", UTCDateTime),
    PrimaryKeyConstraint("tenant_id", "booking_id", "resource_id"),
    _refers("resource_id", "bc_resources"),
    # NULL day seats (no day limit) never conflict
    UniqueConstraint(
        "tenant_id",
        "resource_id",
        "package_id",
        "claim_day",
        "day_seat",
        name="uq_bc_time_claims_day_seat",
    ),
    CheckConstraint("lane >= 0", name="lane"),
    CheckConstraint("day_seat >= 0", name="day_seat"),
    CheckConstraint("ends_at > starts_at", name="interval"),
    # PostgreSQL: covering (migration 0005), so the slot search reads a month of claims by
    # an index-only scan, never visiting the table's pages
    Index(
        None,
        "tenant_id",
        "resource_id",
        "starts_at",
        postgresql_include=_SLOT_SEARCH_COLUMNS,
    ),
    # PostgreSQL only (SQLite has one writer, whose transaction checks before it inserts).
    ExcludeConstraint(
        ("tenant_id", "="),
        ("resource_id", "="),
        ("lane", "="),
        (text("tstzrange(starts_at, ends_at, '[)')"), "&&"),
        name=TIME_CLAIMS_NO_OVERLAP,
        using="gist",
    ).ddl_if(dialect="postgresql"),
)


def _create_btree_gist(_table: Table, connection: Connection, **_kw: Any) -> None:
    """PostgreSQL, before ``bc_time_claims`` is created: the exclusion constraint compares
    uuids and integers with ``=`` inside a GiST index, which takes ``btree_gist``."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gist")


event.listen(time_claims, "before_create", _create_btree_gist)
