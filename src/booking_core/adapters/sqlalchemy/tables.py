"""The schema, as SQLAlchemy Core tables on one public :data:`metadata`.

Ready to shard by tenant (Citus-style): every primary key, unique constraint and index starts
with ``tenant_id``, and references between a tenant's rows are composite foreign keys that
include ``tenant_id``, so the database refuses a row that points at another tenant's data.

No double booking lives in ``booking_claims``: a booking of a date with capacity *c* must own
one of the seats ``0 … c-1`` of its (tenant, resource, date), and the primary key makes a seat
ownable by one row only. A seat whose hold lapsed can be taken over by a conditional upsert, so an
expired hold frees its date even before the sweeper marks it EXPIRED. Time-slot bookings will add
a slot column to this key.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
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
    text,
)

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


tenants = Table(
    "bc_tenants",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slug", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("commission_percent", Numeric(5, 2), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("capacity_per_date", Integer, nullable=False),
    Column("hold_ttl_seconds", Integer, nullable=False),
    Column("min_notice_days", Integer, nullable=False),
    Column("horizon_days", Integer, nullable=False),
    Column("cancellation", JSON, nullable=False),
    UniqueConstraint("slug"),
    CheckConstraint("commission_percent >= 0 AND commission_percent <= 50", name="commission"),
    CheckConstraint("capacity_per_date >= 1", name="capacity"),
)

segments = Table(
    "bc_segments",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("slug", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("heading", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("sort_order", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "slug"),
    ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"]),
    Index(None, "tenant_id", "active", "sort_order"),
)

packages = Table(
    "bc_packages",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("slug", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("base_price", BigInteger, nullable=False),
    Column("segment_id", Uuid, nullable=True),
    Column("grouping", String(100), nullable=False),
    Column("group_order", Integer, nullable=False),
    Column("photo_urls", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "slug"),
    ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"]),
    ForeignKeyConstraint(["tenant_id", "segment_id"], ["bc_segments.tenant_id", "bc_segments.id"]),
    CheckConstraint("base_price >= 0", name="price"),
    Index(None, "tenant_id", "segment_id", "active", "grouping", "group_order"),
)

add_ons = Table(
    "bc_add_ons",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("slug", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("segment_id", Uuid, nullable=True),
    Column("active", Boolean, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "slug"),
    ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"]),
    ForeignKeyConstraint(["tenant_id", "segment_id"], ["bc_segments.tenant_id", "bc_segments.id"]),
    CheckConstraint("price >= 0", name="price"),
)

package_add_ons = Table(
    "bc_package_add_ons",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("package_id", Uuid, nullable=False),
    Column("add_on_id", Uuid, nullable=False),
    PrimaryKeyConstraint("tenant_id", "package_id", "add_on_id"),
    ForeignKeyConstraint(["tenant_id", "package_id"], ["bc_packages.tenant_id", "bc_packages.id"]),
    ForeignKeyConstraint(["tenant_id", "add_on_id"], ["bc_add_ons.tenant_id", "bc_add_ons.id"]),
)

venues = Table(
    "bc_venues",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("address", String(300), nullable=False),
    Column("city", String(100), nullable=False),
    Column("postal_code", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "name"),
    ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"]),
    CheckConstraint("capacity >= 1", name="capacity"),
)

customers = Table(
    "bc_customers",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(20), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "email"),
    ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"]),
    Index(None, "tenant_id", "created_at"),
)

bookings = Table(
    "bc_bookings",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("package_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("venue_id", Uuid, nullable=True),
    Column("event_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("package_price", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("commission", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("canceled_at", UTCDateTime, nullable=True),
    Column("fulfilled_at", UTCDateTime, nullable=True),
    Column("payment_ref", String(200), nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("amount_paid", BigInteger, nullable=False, server_default="0"),
    Column("amount_refunded", BigInteger, nullable=False, server_default="0"),
    Column("commission_refunded", BigInteger, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, server_default="1"),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "package_id"], ["bc_packages.tenant_id", "bc_packages.id"]),
    ForeignKeyConstraint(
        ["tenant_id", "customer_id"], ["bc_customers.tenant_id", "bc_customers.id"]
    ),
    ForeignKeyConstraint(["tenant_id", "venue_id"], ["bc_venues.tenant_id", "bc_venues.id"]),
    CheckConstraint(
        "status IN ('PENDING', 'CONFIRMED', 'FULFILLED', 'CANCELED', 'EXPIRED')", name="status"
    ),
    CheckConstraint("total >= 0 AND commission >= 0 AND commission <= total", name="amounts"),
    CheckConstraint(
        "amount_paid >= 0 AND amount_refunded >= 0 AND amount_refunded <= amount_paid"
        " AND commission_refunded >= 0 AND commission_refunded <= commission",
        name="refunds",
    ),
    Index(None, "tenant_id", "event_date"),
    Index(None, "tenant_id", "customer_id"),
    Index(
        "ix_bc_bookings_pending_expiry",
        "tenant_id",
        "expires_at",
        postgresql_where=text("status = 'PENDING'"),
        sqlite_where=text("status = 'PENDING'"),
    ),
)

booking_add_ons = Table(
    "bc_booking_add_ons",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("booking_id", Uuid, nullable=False),
    Column("add_on_id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("quantity", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "booking_id", "add_on_id"),
    ForeignKeyConstraint(["tenant_id", "booking_id"], ["bc_bookings.tenant_id", "bc_bookings.id"]),
    ForeignKeyConstraint(["tenant_id", "add_on_id"], ["bc_add_ons.tenant_id", "bc_add_ons.id"]),
    CheckConstraint("quantity >= 1 AND unit_price >= 0", name="line"),
)

booking_claims = Table(
    "bc_booking_claims",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("resource_id", Uuid, nullable=False),
    Column("claim_date", Date, nullable=False),
    Column("seat", Integer, nullable=False),
    Column("booking_id", Uuid, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("tenant_id", "resource_id", "claim_date", "seat"),
    ForeignKeyConstraint(["tenant_id", "booking_id"], ["bc_bookings.tenant_id", "bc_bookings.id"]),
    CheckConstraint("seat >= 0", name="seat"),
    Index(None, "tenant_id", "booking_id"),
)

blackout_dates = Table(
    "bc_blackout_dates",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("date", Date, nullable=False),
    Column("reason", Text, nullable=False),
    PrimaryKeyConstraint("tenant_id", "date"),
    ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"]),
)

refunds = Table(
    "bc_refunds",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("booking_id", Uuid, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("commission_refund", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("provider_refund_id", String(200), nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("attempts", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "booking_id"], ["bc_bookings.tenant_id", "bc_bookings.id"]),
    CheckConstraint("amount > 0 AND commission_refund >= 0", name="amounts"),
    CheckConstraint("state IN ('PENDING', 'SUCCEEDED', 'FAILED')", name="state"),
    Index(None, "tenant_id", "booking_id"),
    # One row per refund the provider made: two reports of one dashboard refund, or its report
    # racing our own record of it, can never count it twice (NULLs, not yet executed, repeat).
    Index(None, "tenant_id", "provider_refund_id", unique=True),
    Index(
        "ix_bc_refunds_unsettled",
        "tenant_id",
        "created_at",
        postgresql_where=text("state <> 'SUCCEEDED'"),
        sqlite_where=text("state <> 'SUCCEEDED'"),
    ),
)

idempotency_keys = Table(
    "bc_idempotency_keys",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("booking_id", Uuid, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("tenant_id", "key"),
    ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"]),
    Index(None, "tenant_id", "expires_at"),
)

webhook_inbox = Table(
    "bc_webhook_inbox",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("provider", String(50), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("processed_at", UTCDateTime, nullable=True),
    Column("outcome", String(100), nullable=True),
    Column("details", JSON, nullable=False),
    PrimaryKeyConstraint("tenant_id", "provider", "event_id"),
    ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"]),
    CheckConstraint("state IN ('PENDING', 'PROCESSED', 'FAILED')", name="state"),
    Index(
        "ix_bc_webhook_inbox_failed",
        "tenant_id",
        "received_at",
        postgresql_where=text("state = 'FAILED'"),
        sqlite_where=text("state = 'FAILED'"),
    ),
)

outbox = Table(
    "bc_outbox",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("booking_id", Uuid, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("type", String(50), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("done_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "booking_id"], ["bc_bookings.tenant_id", "bc_bookings.id"]),
    UniqueConstraint("tenant_id", "booking_id", "sequence"),
    Index(
        "ix_bc_outbox_undelivered",
        "tenant_id",
        "created_at",
        postgresql_where=text("done_at IS NULL"),
        sqlite_where=text("done_at IS NULL"),
    ),
)

tenant_api_keys = Table(
    "bc_tenant_api_keys",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "key_hash"),
    ForeignKeyConstraint(["tenant_id"], ["bc_tenants.id"]),
)
