"""Tenants: the businesses hosted on the platform."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from booking_core.domain.ids import new_id
from booking_core.domain.model import (
    ApiKey,
    BookingPolicy,
    CancellationPolicy,
    IssuedApiKey,
    RecurringBlackout,
    RefundTier,
    Tenant,
)
from booking_core.domain.schedule import rule_dates
from booking_core.errors import (
    AuthenticationError,
    NotFoundError,
    TenantInactiveError,
    ValidationError,
)
from booking_core.limits import (
    MAX_BLACKOUT_RULES,
    MAX_CAPACITY,
    MAX_POLICY_DAYS,
    MAX_REFUND_TIERS,
)
from booking_core.ports.repositories import UnitOfWork
from booking_core.services import _validate as v
from booking_core.services._base import Service, load_tenant, whole_tenant
from booking_core.unset import UNSET, Unset

__all__ = ["API_KEY_PREFIX", "TenantService"]


def _policy(policy: Any) -> BookingPolicy:
    """A BookingPolicy of well-typed fields within the limits; its rules are its own."""
    if not isinstance(policy, BookingPolicy):
        raise ValidationError("policy", "must be a BookingPolicy")
    v.integer(policy.capacity_per_date, "policy.capacity_per_date", minimum=1, maximum=MAX_CAPACITY)
    v.integer(policy.min_notice_days, "policy.min_notice_days", minimum=0, maximum=MAX_POLICY_DAYS)
    v.integer(policy.horizon_days, "policy.horizon_days", minimum=0, maximum=MAX_POLICY_DAYS)
    if not isinstance(policy.hold_ttl, dt.timedelta):
        raise ValidationError("policy.hold_ttl", "must be a timedelta between 1 minute and 7 days")
    policy.check()
    return policy


def _cancellation(policy: Any) -> CancellationPolicy:
    """A CancellationPolicy of well-typed fields within the limits; its rules are its own."""
    if not isinstance(policy, CancellationPolicy):
        raise ValidationError("cancellation", "must be a CancellationPolicy")
    v.money(policy.fee, "cancellation.fee")
    if not isinstance(policy.tiers, tuple) or len(policy.tiers) > MAX_REFUND_TIERS:
        raise ValidationError(
            "cancellation.tiers", f"must be a tuple of at most {MAX_REFUND_TIERS} RefundTier"
        )
    for index, tier in enumerate(policy.tiers):
        field = f"cancellation.tiers.{index}"
        if not isinstance(tier, RefundTier):
            raise ValidationError(field, "must be a RefundTier")
        v.integer(tier.days_before, f"{field}.days_before", minimum=0, maximum=MAX_POLICY_DAYS)
        v.integer(tier.percent, f"{field}.percent", minimum=0, maximum=100)
    policy.check()
    return policy


def _blackout_rules(rules: object) -> tuple[RecurringBlackout, ...]:
    """Checked recurring blackouts: each rule parsed once here, so a stored rule always
    expands (and a refused one names its field)."""
    if not isinstance(rules, list | tuple) or len(rules) > MAX_BLACKOUT_RULES:
        raise ValidationError("rules", f"must be a list of at most {MAX_BLACKOUT_RULES} rules")
    checked = []
    for index, rule in enumerate(rules):
        field = f"rules.{index}"
        if not isinstance(rule, RecurringBlackout):
            raise ValidationError(field, "must be a RecurringBlackout")
        starts_on = v.date_(rule.starts_on, f"{field}.starts_on")
        if not isinstance(rule.except_on, list | tuple) or len(rule.except_on) > 100:
            raise ValidationError(f"{field}.except_on", "must be at most 100 dates")
        skipped = tuple(
            v.date_(day, f"{field}.except_on.{n}") for n, day in enumerate(rule.except_on)
        )
        reason = v.text(rule.reason, f"{field}.reason", max_length=200)
        rule_dates(rule.rrule, starts_on, starts_on, field=f"{field}.rrule")  # parses it
        checked.append(RecurringBlackout(rule.rrule, starts_on, skipped, reason))
    return tuple(checked)


API_KEY_PREFIX = "bck_"


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _tenant_of_key(key: object) -> uuid.UUID:
    """The tenant id a key names (its public part), or AuthenticationError."""
    if (
        not isinstance(key, str)
        or len(key) > 200
        or not key.isascii()  # every key we issue is ASCII; hashing needs it encodable
        or not key.startswith(API_KEY_PREFIX)
    ):
        raise AuthenticationError
    tenant_hex, _, secret = key[len(API_KEY_PREFIX) :].partition("_")
    if len(tenant_hex) != 32 or not secret:
        raise AuthenticationError
    try:
        return uuid.UUID(hex=tenant_hex)
    except ValueError:
        raise AuthenticationError from None


class TenantService(Service):
    """Create, read and (de)activate tenants."""

    def create(
        self,
        *,
        slug: str,
        name: str,
        timezone: str,
        currency: str,
        commission_percent: int | str | Decimal = 0,
        policy: BookingPolicy | None = None,
        cancellation: CancellationPolicy | None = None,
    ) -> Tenant:
        """Create an active tenant.

        Raises:
            ValidationError: a field is malformed (slug, timezone, currency, percent 0-50).
            AlreadyExistsError: the slug is taken.
        """
        tenant = Tenant(
            id=new_id(),
            slug=v.slug(slug),
            name=v.name(name),
            timezone=v.timezone(timezone),
            currency=v.currency(currency),
            commission_percent=v.percent(commission_percent),
            policy=_policy(policy or BookingPolicy()),
            cancellation=_cancellation(cancellation or CancellationPolicy()),
        )

        def work(uow: UnitOfWork) -> Tenant:
            uow.tenants.add(tenant)
            return tenant

        def landed(uow: UnitOfWork) -> Tenant | None:
            return uow.tenants.get(tenant.id)  # its id was chosen before the first attempt

        return self._write(work, landed=landed)

    def get(self, tenant_id: uuid.UUID) -> Tenant:
        """The tenant, active or not. Raises NotFoundError."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        return self._read(lambda uow: load_tenant(uow, tenant_id, require_active=False))

    def get_by_slug(self, slug: str) -> Tenant:
        """The tenant with that slug, active or not. Raises NotFoundError."""
        clean = v.slug(slug)

        def work(uow: UnitOfWork) -> Tenant:
            tenant = uow.tenants.get_by_slug(clean)
            if tenant is None:
                raise NotFoundError("tenant", clean)
            return tenant

        return self._read(work)

    def _change(self, tenant_id: uuid.UUID, changes: Mapping[str, Any]) -> Tenant:
        """Replace the given fields of the tenant (active or not) and drop its cache."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        fields = MappingProxyType(dict(changes))

        def work(uow: UnitOfWork) -> Tenant:
            tenant = replace(load_tenant(uow, tenant_id, require_active=False), **fields)
            uow.tenants.update(tenant)  # a compare-and-swap: the stored version is one more
            return replace(tenant, version=tenant.version + 1)

        # Setting the same fields twice is setting them once: safe after a lost COMMIT reply.
        return self._write(work, invalidates=whole_tenant(tenant_id), idempotent=True)

    def deactivate(self, tenant_id: uuid.UUID) -> Tenant:
        """Refuse all further operations of the tenant (its data stays)."""
        return self._change(tenant_id, {"active": False})

    def activate(self, tenant_id: uuid.UUID) -> Tenant:
        """Undo :meth:`deactivate`."""
        return self._change(tenant_id, {"active": True})

    def update_policy(self, tenant_id: uuid.UUID, policy: BookingPolicy) -> Tenant:
        """Replace the tenant's booking policy (capacity, hold TTL, notice, horizon)."""
        return self._change(tenant_id, {"policy": _policy(policy)})

    def update_cancellation_policy(
        self, tenant_id: uuid.UUID, cancellation: CancellationPolicy
    ) -> Tenant:
        """Replace the refund tiers and fee applied to future cancellations."""
        return self._change(tenant_id, {"cancellation": _cancellation(cancellation)})

    def update_blackout_rules(
        self, tenant_id: uuid.UUID, rules: Sequence[RecurringBlackout]
    ) -> Tenant:
        """Replace the tenant's recurring blackout dates (``()`` clears them): date packages
        are closed on each date a rule yields, less its exceptions. Existing bookings stay.

        Raises:
            ValidationError: a rule that is not a RecurringBlackout, an RRULE refused (its
                field is ``rules.<i>.rrule``), more than 20 rules or 100 exceptions each.
        """
        return self._change(tenant_id, {"blackout_rules": _blackout_rules(rules)})

    def create_api_key(self, tenant_id: uuid.UUID, *, label: str = "") -> IssuedApiKey:
        """Issue a public API key for the tenant; returns its ``record`` and the ``key``, which
        is shown only this once.

        The key names its tenant (``bck_<tenant hex>_<secret>``), so resolving it stays a
        tenant-scoped lookup; only its SHA-256 digest is stored.
        """
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        clean_label = v.text(label, "label", max_length=200)
        key = f"{API_KEY_PREFIX}{tenant_id.hex}_{secrets.token_urlsafe(24)}"

        def work(uow: UnitOfWork) -> ApiKey:
            load_tenant(uow, tenant_id)
            record = ApiKey(new_id(), tenant_id, _key_hash(key), clean_label, self._clock.now())
            uow.api_keys.add(record)
            return record

        return IssuedApiKey(self._write(work), key)

    def resolve_api_key(self, key: str) -> Tenant:
        """The active tenant an API key belongs to.

        Every active key of the tenant is compared in constant time (no early exit).

        Raises:
            AuthenticationError: malformed, unknown or revoked key (indistinguishably).
            TenantInactiveError: the key is valid but its tenant is deactivated.
        """
        tenant_id = _tenant_of_key(key)
        presented = _key_hash(key)

        def work(uow: UnitOfWork) -> Tenant:
            tenant = uow.tenants.get(tenant_id)
            keys = uow.api_keys.active(tenant_id) if tenant is not None else []
            matched = False
            for record in keys:
                matched |= hmac.compare_digest(record.key_hash, presented)
            if tenant is None or not matched:
                raise AuthenticationError
            if not tenant.active:
                raise TenantInactiveError(tenant.id)
            return tenant

        return self._read(work)

    def revoke_api_key(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> bool:
        """Revoke a key at once; returns whether it was active."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")
        key_id = v.uuid_(key_id, "key_id")

        def work(uow: UnitOfWork) -> bool:
            load_tenant(uow, tenant_id, require_active=False)
            return uow.api_keys.revoke(tenant_id, key_id, now=self._clock.now())

        return self._write(work)

    def list_api_keys(self, tenant_id: uuid.UUID) -> list[ApiKey]:
        """The tenant's active keys (digests and labels only)."""
        tenant_id = v.uuid_(tenant_id, "tenant_id")

        def work(uow: UnitOfWork) -> list[ApiKey]:
            load_tenant(uow, tenant_id, require_active=False)
            return uow.api_keys.active(tenant_id)

        return self._read(work)

    def update(
        self,
        tenant_id: uuid.UUID,
        *,
        name: str | Unset = UNSET,
        timezone: str | Unset = UNSET,
        commission_percent: int | str | Decimal | Unset = UNSET,
    ) -> Tenant:
        """Change the display name, timezone or commission of a tenant; fields left
        :data:`~booking_core.UNSET` keep their value (``None`` is refused, not skipped)."""
        changes: dict[str, Any] = {}
        if name is not UNSET:
            changes["name"] = v.name(name)
        if timezone is not UNSET:
            changes["timezone"] = v.timezone(timezone)
        if commission_percent is not UNSET:
            changes["commission_percent"] = v.percent(commission_percent)
        return self._change(tenant_id, changes)
