"""Fault injection: every public write survives a failure at any step, checked by invariants.

A :class:`FaultyUnitOfWorkFactory` wraps any unit-of-work factory and, once armed, makes one
step of one operation fail: a repository call or a commit raises
:class:`~booking_core.errors.TransientStorageError` (nothing of that transaction commits), or a
commit *happens* and then raises :class:`~booking_core.errors.CommitOutcomeUnknownError` (the
reply was lost). :class:`FaultInjectionContract` runs every write scenario fault-free once to
count its steps, then once per step with a fault there, on a fresh tenant each time, and checks
after each run:

- the result and the tenant's stored state equal the fault-free run's (no effect lost or
  repeated: same statuses, money, versions, events, refunds, seats, provider refunds);
- no date over capacity, and live seats equal the bookings that should hold them;
- every booking's refunds add up to its refunded total, never above what was paid;
- every booking's events are numbered 1..version with no gap (one event per change);
- the provider refunded exactly what was recorded as refunded, and nothing stays unsettled
  after ``retry_refunds``.

Like the other contracts, subclass it and override one fixture::

    class TestMyAdapterUnderFaults(FaultInjectionContract):
        @pytest.fixture
        def uow_factory(self):
            return MyUowFactory(...)

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Self
from zoneinfo import ZoneInfo

import pytest

from booking_core.adapters.payments.fake import FakePaymentProvider
from booking_core.bootstrap import BookingApp
from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import (
    Booking,
    BookingPolicy,
    BookingStatus,
    Cancellation,
    CancellationPolicy,
    CustomerDetails,
    HeldTime,
    PackageSchedule,
    RefundState,
    RefundTier,
    SeriesHold,
    Tenant,
)
from booking_core.domain.schedule import Interval, SlotTiming, WeeklyHours, WorkingHours
from booking_core.errors import (
    BookingCoreError,
    CommitOutcomeUnknownError,
    TransientStorageError,
)
from booking_core.ports.cache import CachePort
from booking_core.ports.payments import PaymentEventType, RefundRequest
from booking_core.ports.repositories import (
    HoldAttempt,
    HoldAttemptResult,
    HoldsAtOnce,
    UnitOfWork,
    UnitOfWorkFactory,
)
from booking_core.services.bookings import Checkout
from booking_core.testing import ManualClock

__all__ = [
    "SCENARIOS",
    "Fault",
    "FaultInjectionContract",
    "FaultReport",
    "FaultyUnitOfWorkFactory",
    "Scenario",
    "broken_invariants",
    "run_scenario",
    "state_digest",
]

#: Where the scenarios' clock starts: a Saturday, far from DST changes in Europe/Paris.
START: Final = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)
EVENT_DAY: Final = dt.date(2030, 8, 20)  # 66 days ahead: cancelling refunds 100 %
OTHER_DAY: Final = dt.date(2030, 8, 27)
_WINDOW: Final = (dt.date(2030, 6, 1), dt.date(2030, 12, 31))
_PARIS: Final = ZoneInfo("Europe/Paris")
#: The timed scenarios' start, and the one a reschedule moves to (same day, same resource).
TIMED_START: Final = dt.datetime(2030, 8, 20, 10, 0, tzinfo=_PARIS)
TIMED_OTHER: Final = dt.datetime(2030, 8, 20, 14, 0, tzinfo=_PARIS)
_TIME_WINDOW: Final = Interval(
    dt.datetime(2030, 6, 1, tzinfo=dt.UTC), dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
)


class Fault(enum.Enum):
    """What goes wrong at the armed step."""

    #: The step fails before it runs; its transaction rolls back (a deadlock, a dropped
    #: connection mid-transaction, SQLite busy).
    TRANSIENT = "transient"
    #: The COMMIT happens and its reply is lost: the caller cannot know it landed.
    LOST_REPLY = "lost_reply"


class FaultyUnitOfWorkFactory:
    """Wraps a unit-of-work factory; fails the ``at``-th step once armed (not thread-safe).

    Steps are counted from :meth:`arm`: every repository call and every commit is a step for
    :attr:`Fault.TRANSIENT`; only commits are for :attr:`Fault.LOST_REPLY`.
    """

    def __init__(self, inner: UnitOfWorkFactory) -> None:
        self.inner = inner
        self.steps = 0
        self.commits = 0
        self.injected = 0
        self._fault: Fault | None = None
        self._at: frozenset[int] = frozenset()

    def arm(self, fault: Fault | None, *at: int) -> None:
        """Count steps from zero and fail the steps numbered ``at`` with ``fault``.

        ``arm(None)`` only counts. Two consecutive indices fail an attempt and its retry (or
        the check after a lost reply) too.
        """
        self.steps = self.commits = 0
        self._fault, self._at = fault, frozenset(at)

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        return _FaultyUnitOfWork(self, self.inner(read_only=read_only))

    def hold_at_once(self, attempt: HoldAttempt) -> HoldAttemptResult | None:
        """The inner factory's one-statement hold (None where it has none), counted as a
        commit step: a TRANSIENT fault fails it before it runs, a LOST_REPLY runs it and then
        loses its reply."""
        holds = self.inner
        if not isinstance(holds, HoldsAtOnce):
            return None
        fault = self._commit_step()
        result = holds.hold_at_once(attempt)
        if fault is Fault.LOST_REPLY:
            raise CommitOutcomeUnknownError("injected: the hold statement's reply was lost")
        return result

    def _call_step(self) -> None:
        index, self.steps = self.steps, self.steps + 1
        if self._fault is Fault.TRANSIENT and index in self._at:
            self.injected += 1
            raise TransientStorageError(f"injected fault at step {index}")

    def _commit_step(self) -> Fault | None:
        self._call_step()
        index, self.commits = self.commits, self.commits + 1
        if self._fault is Fault.LOST_REPLY and index in self._at:
            self.injected += 1
            return Fault.LOST_REPLY
        return None


class _FaultyUnitOfWork:
    def __init__(self, factory: FaultyUnitOfWorkFactory, inner: UnitOfWork) -> None:
        self._factory = factory
        self._inner = inner

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def __getattr__(self, name: str) -> Any:
        return _FaultyRepository(self._factory, getattr(self._inner, name))

    def commit(self) -> None:
        fault = self._factory._commit_step()
        self._inner.commit()
        if fault is Fault.LOST_REPLY:
            raise CommitOutcomeUnknownError("injected: the COMMIT reply was lost")

    def rollback(self) -> None:
        self._inner.rollback()


class _FaultyRepository:
    def __init__(self, factory: FaultyUnitOfWorkFactory, inner: Any) -> None:
        self._factory = factory
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._factory._call_step()
            return method(*args, **kwargs)

        return call


# --- the world of one scenario run ---------------------------------------------------------


@dataclass
class World:
    """One run's app (over the faulty factory), its provider, clock and fresh tenant."""

    app: BookingApp
    provider: FakePaymentProvider
    clock: ManualClock
    tenant: Tenant
    package_id: uuid.UUID
    timed_package_id: uuid.UUID
    resource_id: uuid.UUID
    values: dict[str, Any] = field(default_factory=dict)

    def customer(self, name: str = "Ann Example") -> CustomerDetails:
        return CustomerDetails(name, f"{name.split(maxsplit=1)[0].lower()}@example.com", None)

    def checkout(self, day: dt.date = EVENT_DAY, *, key: str | None = None) -> Checkout:
        return self.app.bookings.checkout(
            self.tenant.id,
            package_id=self.package_id,
            date=day,
            customer=self.customer(),
            idempotency_key=key,
        )

    def timed_checkout(self, *, key: str | None = None) -> Checkout:
        return self.app.bookings.checkout(
            self.tenant.id,
            package_id=self.timed_package_id,
            start=TIMED_START,
            customer=self.customer(),
            idempotency_key=key,
        )

    def webhook(
        self, kind: PaymentEventType, booking: Booking, payment_ref: str, **extra: Any
    ) -> Any:
        amount = extra.pop("amount", booking.total)
        body, headers = self.provider.make_webhook(
            kind,
            tenant_id=booking.tenant_id,
            booking_id=booking.id,
            payment_ref=payment_ref,
            amount=amount,
            currency=booking.currency,
            **extra,
        )
        return self.app.webhooks.receive(booking.tenant_id, body, headers)

    def paid(self, *, timed: bool = False) -> Booking:
        """A CONFIRMED booking paid through the provider's webhook (of a date, or a time)."""
        checkout = self.timed_checkout() if timed else self.checkout()
        self.webhook(
            PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, checkout.session.payment_ref
        )
        return self.app.bookings.get(self.tenant.id, checkout.booking.id)


def _world(factory: UnitOfWorkFactory, cache: CachePort | None = None) -> World:
    clock = ManualClock(START)
    provider = FakePaymentProvider(clock=clock)
    app = BookingApp(uow=factory, clock=clock, payments=provider, cache=cache)
    tenant = app.tenants.create(
        slug=f"faults-{uuid.uuid4().hex[:12]}",
        name="Studio Lumière",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=12,
        policy=BookingPolicy(capacity_per_date=1),
        cancellation=CancellationPolicy(tiers=(RefundTier(30, 100), RefundTier(7, 50))),
    )
    package = app.catalog.create_package(tenant.id, slug="gold", name="Gold", base_price=250_000)
    every_day = WorkingHours(
        weekly=tuple(WeeklyHours(d, dt.time(8), dt.time(20)) for d in range(7))
    )
    resource = app.catalog.create_resource(tenant.id, name="Ana", hours=every_day)
    timed = app.catalog.create_package(
        tenant.id,
        slug="massage",
        name="Massage",
        base_price=8_000,
        schedule=PackageSchedule(
            SlotTiming(duration=dt.timedelta(hours=1), buffer_after=dt.timedelta(minutes=15)),
            resource_ids=(resource.id,),
        ),
    )
    return World(app, provider, clock, tenant, package.id, timed.id, resource.id)


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A public write: ``setup`` prepares a fresh world (fault-free), ``run`` is faulted.

    ``recoverable``: the write must find out whether a lost-reply attempt landed and return
    its result. Otherwise :class:`CommitOutcomeUnknownError` may reach the caller, and only the
    invariants are checked.
    """

    name: str
    run: Callable[[World], Any]
    setup: Callable[[World], None] = lambda _world: None
    recoverable: bool = True


def _hold(world: World, *, key: str | None = None) -> Booking:
    return world.app.bookings.hold(
        world.tenant.id,
        package_id=world.package_id,
        date=EVENT_DAY,
        customer=world.customer(),
        idempotency_key=key,
    )


def _setup_hold(world: World) -> None:
    world.values["booking"] = _hold(world)


def _timed_hold(world: World, *, key: str | None = None) -> Booking:
    return world.app.bookings.hold(
        world.tenant.id,
        package_id=world.timed_package_id,
        start=TIMED_START,
        customer=world.customer(),
        idempotency_key=key,
    )


def _setup_timed_hold(world: World) -> None:
    world.values["booking"] = _timed_hold(world)


def _setup_timed_paid(world: World) -> None:
    world.values["booking"] = world.paid(timed=True)


def _setup_timed_lapsed(world: World) -> None:
    world.values["checkout"] = world.timed_checkout()
    world.clock.set(START + dt.timedelta(hours=1))


#: A series of two daily occurrences from TIMED_START (inside the digest's window): every
#: step of a series' write is met with two, and a third would only repeat them.
SERIES_RULE: Final = "FREQ=DAILY;COUNT=2"


def _series(world: World) -> Any:
    return world.app.series.hold(
        world.tenant.id,
        package_id=world.timed_package_id,
        first=TIMED_START,
        rule=SERIES_RULE,
        customer=world.customer(),
    )


def _setup_series(world: World) -> None:
    world.values["series"] = _series(world)


def _setup_series_paid(world: World) -> None:
    """A series paid through the provider (checkout, then its webhook)."""
    _setup_series_checkout(world)
    _pay_series(world)
    world.values["series"] = world.values["series_checkout"].series


def _setup_series_checkout(world: World) -> None:
    world.values["series_checkout"] = world.app.series.checkout(
        world.tenant.id,
        package_id=world.timed_package_id,
        first=TIMED_START,
        rule=SERIES_RULE,
        customer=world.customer(),
    )


def _pay_series(world: World) -> Any:
    checkout = world.values["series_checkout"]
    lead = checkout.series.bookings[0]
    return world.webhook(
        PaymentEventType.PAYMENT_SUCCEEDED,
        lead,
        checkout.session.payment_ref,
        amount=checkout.series.total,
    )


def _setup_checkout(world: World) -> None:
    world.values["checkout"] = world.checkout()


def _setup_paid(world: World) -> None:
    world.values["booking"] = world.paid()


def _setup_cancelled_unpaid(world: World) -> None:
    checkout = world.checkout()
    world.app.bookings.cancel(world.tenant.id, checkout.booking.id, reason="changed my mind")
    world.values["checkout"] = checkout


def _setup_lapsed(world: World) -> None:
    world.values["checkout"] = world.checkout()
    world.clock.set(START + dt.timedelta(hours=1))


def _setup_declined_refund(world: World) -> None:
    booking = world.paid()
    world.provider.fail_next_refund("card closed")
    world.app.bookings.cancel(world.tenant.id, booking.id)


def _pay(world: World) -> Any:
    checkout: Checkout = world.values["checkout"]
    return world.webhook(
        PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, checkout.session.payment_ref
    )


def _setup_dashboard_refund(world: World) -> None:
    """A refund made in the provider's dashboard, whose webhook is still to come."""
    booking = world.paid()
    result = world.provider.refund(
        RefundRequest(
            tenant_id=booking.tenant_id,
            booking_id=booking.id,
            payment_ref=booking.payment_ref or "",
            amount=5_000,
            currency=booking.currency,
            reason="goodwill",
            idempotency_key=f"dashboard-{booking.id}",
        )
    )
    world.values["booking"] = booking
    world.values["refund_id"] = result.provider_refund_id


def _refund_at_provider(world: World) -> Any:
    booking: Booking = world.values["booking"]
    return world.webhook(
        PaymentEventType.REFUND_SUCCEEDED,
        booking,
        booking.payment_ref or "",
        amount=5_000,
        provider_refund_id=world.values["refund_id"],
    )


SCENARIOS: Final[tuple[Scenario, ...]] = (
    Scenario(
        "tenants.create",
        lambda w: w.app.tenants.create(
            slug=w.values.setdefault("slug", f"new-{uuid.uuid4().hex[:12]}"),
            name="New Shop",
            timezone="Europe/Paris",
            currency="EUR",
        ),
    ),
    Scenario("bookings.hold", _hold),
    Scenario("bookings.hold (idempotency key)", lambda w: _hold(w, key="order-1")),
    Scenario("bookings.checkout", lambda w: w.checkout(key="order-2")),
    Scenario(
        "bookings.confirm",
        lambda w: w.app.bookings.confirm(
            w.tenant.id, w.values["booking"].id, payment_ref="pay_manual"
        ),
        _setup_hold,
    ),
    Scenario(
        "bookings.cancel (paid: refund)",
        lambda w: w.app.bookings.cancel(w.tenant.id, w.values["booking"].id, reason="ill"),
        _setup_paid,
    ),
    Scenario(
        "bookings.refund",
        lambda w: w.app.bookings.refund(w.tenant.id, w.values["booking"].id, amount=1_000),
        _setup_paid,
    ),
    Scenario(
        "bookings.reschedule",
        lambda w: w.app.bookings.reschedule(
            w.tenant.id, w.values["booking"].id, new_date=OTHER_DAY
        ),
        _setup_paid,
    ),
    Scenario("webhook: payment succeeded", _pay, _setup_checkout),
    Scenario("webhook: paid after cancel (refund)", _pay, _setup_cancelled_unpaid),
    Scenario("webhook: paid after the hold lapsed", _pay, _setup_lapsed),
    Scenario(
        "webhook: payment failed",
        lambda w: w.webhook(
            PaymentEventType.PAYMENT_FAILED,
            w.values["checkout"].booking,
            w.values["checkout"].session.payment_ref,
        ),
        _setup_checkout,
    ),
    Scenario("webhook: refunded at the provider", _refund_at_provider, _setup_dashboard_refund),
    Scenario("bookings.hold (timed)", _timed_hold),
    Scenario("bookings.hold (timed, idempotency key)", lambda w: _timed_hold(w, key="t-1")),
    Scenario("bookings.checkout (timed)", lambda w: w.timed_checkout(key="t-2")),
    Scenario(
        "bookings.confirm (timed)",
        lambda w: w.app.bookings.confirm(
            w.tenant.id, w.values["booking"].id, payment_ref="pay_manual"
        ),
        _setup_timed_hold,
    ),
    Scenario(
        "bookings.cancel (timed, paid: refund)",
        lambda w: w.app.bookings.cancel(w.tenant.id, w.values["booking"].id, reason="ill"),
        _setup_timed_paid,
    ),
    Scenario(
        "bookings.reschedule (timed)",
        lambda w: w.app.bookings.reschedule(
            w.tenant.id, w.values["booking"].id, new_start=TIMED_OTHER
        ),
        _setup_timed_paid,
    ),
    Scenario("webhook: timed, paid after the hold lapsed", _pay, _setup_timed_lapsed),
    Scenario(
        "bookings.retry_refunds",
        lambda w: w.app.bookings.retry_refunds(tenant_id=w.tenant.id),
        _setup_declined_refund,
    ),
    Scenario("series.hold", _series),
    Scenario(
        "series.confirm",
        lambda w: w.app.series.confirm(
            w.tenant.id, w.values["series"].series_id, payment_ref="pay_series"
        ),
        _setup_series,
    ),
    Scenario(
        "series.cancel (paid: a refund per occurrence)",
        lambda w: w.app.series.cancel(w.tenant.id, w.values["series"].series_id, reason="ill"),
        _setup_series_paid,
    ),
    Scenario("webhook: series paid", _pay_series, _setup_series_checkout),
    Scenario(
        "bookings.expire_holds",
        lambda w: w.app.bookings.expire_holds(tenant_id=w.tenant.id),
        _setup_lapsed,
        recoverable=False,
    ),
)


# --- what is checked -------------------------------------------------------------------------


def _bookings(uow: UnitOfWork, tenant_id: uuid.UUID) -> list[Booking]:
    return uow.bookings.list_for_dates(tenant_id, *_WINDOW)


def state_digest(
    uow_factory: UnitOfWorkFactory,
    tenant_id: uuid.UUID,
    *,
    provider: FakePaymentProvider | None = None,
    now: dt.datetime,
) -> tuple[Any, ...]:
    """The tenant's stored state without ids or times: equal digests, equal effects."""
    with uow_factory(read_only=True) as uow:
        bookings = []
        for booking in _bookings(uow, tenant_id):
            seen = booking.as_of(now)
            refunds = sorted(
                (r.amount, r.state.value, r.commission_refund)
                for r in uow.refunds.for_booking(tenant_id, booking.id)
            )
            events = [e.type for e in uow.outbox.for_booking(tenant_id, booking.id)]
            bookings.append(
                (
                    seen.status.value,
                    seen.event_date,
                    seen.starts_at,
                    seen.amount_paid,
                    seen.amount_refunded,
                    seen.commission_refunded,
                    seen.version,
                    tuple(events),
                    tuple(refunds),
                )
            )
        seats = tuple(
            sorted(
                (seat.date, seat.is_live(now))
                for seat in uow.bookings.held_seats(tenant_id, TENANT_WIDE, *_WINDOW)
            )
        )
        times = tuple(
            sorted(
                (claim.occupied.start, claim.occupied.end, claim.lane, claim.is_live(now))
                for claim in _time_claims(uow, tenant_id)
            )
        )
        customers = len(uow.customers.list(tenant_id, limit=1000, offset=0))
        tenant = uow.tenants.get(tenant_id)
    paid_out: tuple[int, ...] = ()
    if provider is not None:
        paid_out = tuple(sorted(r.amount for r in provider.refunds if r.tenant_id == tenant_id))
    return (tenant is not None, tuple(sorted(bookings)), seats, times, customers, paid_out)


def _time_claims(uow: UnitOfWork, tenant_id: uuid.UUID) -> list[HeldTime]:
    """Every time claim of the tenant's resources in the scenarios' window."""
    resources = [r.id for r in uow.resources.list(tenant_id, active_only=False)]
    return uow.bookings.held_time(tenant_id, resources, _TIME_WINDOW) if resources else []


def broken_invariants(
    uow_factory: UnitOfWorkFactory,
    tenant_id: uuid.UUID,
    *,
    capacity: int,
    now: dt.datetime,
    provider: FakePaymentProvider | None = None,
) -> list[str]:
    """Every invariant of the tenant's stored state that does not hold (empty: all hold)."""
    broken: list[str] = []
    with uow_factory(read_only=True) as uow:
        bookings = [b.as_of(now) for b in _bookings(uow, tenant_id)]
        live: dict[dt.date, int] = {}
        for seat in uow.bookings.held_seats(tenant_id, TENANT_WIDE, *_WINDOW):
            if seat.is_live(now):
                live[seat.date] = live.get(seat.date, 0) + 1
        recorded_success = 0
        for booking in bookings:
            refunds = uow.refunds.for_booking(tenant_id, booking.id)
            recorded_success += sum(r.amount for r in refunds if r.state is RefundState.SUCCEEDED)
            if sum(r.amount for r in refunds) != booking.amount_refunded:
                broken.append(f"{booking.id}: refunds do not add up to amount_refunded")
            if booking.amount_refunded > booking.amount_paid:
                broken.append(f"{booking.id}: refunded more than was paid")
            sequences = [e.sequence for e in uow.outbox.for_booking(tenant_id, booking.id)]
            if sequences != list(range(1, booking.version + 1)):
                broken.append(f"{booking.id}: events {sequences} for version {booking.version}")
        live_time = [c for c in _time_claims(uow, tenant_id) if c.is_live(now)]
    holding = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.FULFILLED)
    broken.extend(_time_broken(bookings, live_time, holding, capacity))
    active: dict[dt.date, int] = {}
    for booking in bookings:
        if booking.status in holding and not booking.is_timed:
            active[booking.event_date] = active.get(booking.event_date, 0) + 1
    for day in sorted(set(live) | set(active)):
        if live.get(day, 0) > capacity:
            broken.append(f"{day}: {live[day]} live seats over capacity {capacity}")
        if live.get(day, 0) != active.get(day, 0):
            broken.append(f"{day}: {live.get(day, 0)} live seats, {active.get(day, 0)} bookings")
    if provider is not None:
        paid_out = sum(r.amount for r in provider.refunds if r.tenant_id == tenant_id)
        if paid_out != recorded_success:
            broken.append(f"provider refunded {paid_out}, recorded {recorded_success}")
    return broken


def _time_broken(
    bookings: list[Booking],
    live: list[HeldTime],
    holding: tuple[BookingStatus, ...],
    capacity: int,
) -> list[str]:
    """Live time claims: never more than ``capacity`` overlapping on a resource, and exactly
    the claims of the live timed bookings (one per resource each)."""
    broken = []
    by_resource: dict[uuid.UUID, list[HeldTime]] = {}
    for claim in live:
        by_resource.setdefault(claim.resource_id, []).append(claim)
    for resource_id, claims in by_resource.items():
        edges = sorted(
            [(c.occupied.start, 1) for c in claims] + [(c.occupied.end, -1) for c in claims],
            key=lambda edge: (edge[0], edge[1]),
        )
        running = 0
        for _, step in edges:
            running += step
            if running > capacity:
                broken.append(f"resource {resource_id}: {running} live claims overlap")
                break
    claimed = sorted((c.booking_id, c.resource_id) for c in live)
    expected = sorted(
        (b.id, resource)
        for b in bookings
        if b.is_timed and b.status in holding
        for resource in b.resource_ids
    )
    if claimed != expected:
        broken.append(f"live time claims {claimed} are not the live bookings' {expected}")
    return broken


def _summary(result: Any) -> Any:
    """A run's result without ids and times, to compare a faulted run with a clean one."""
    if isinstance(result, Booking):
        return ("booking", result.status.value, result.event_date, result.starts_at,
                result.amount_paid, result.amount_refunded, result.version)  # fmt: skip
    if isinstance(result, Checkout):
        return ("checkout", _summary(result.booking), bool(result.session.redirect_url))
    if isinstance(result, Cancellation):
        return ("cancellation", _summary(result.booking), result.refund_amount,
                result.days_before, result.refund_percent)  # fmt: skip
    if isinstance(result, Tenant):
        return ("tenant", result.name, result.active)
    if isinstance(result, list):
        return tuple(_summary(item) for item in result)
    if hasattr(result, "amount") and hasattr(result, "state"):  # a Refund
        return ("refund", result.amount, result.state.value)
    if isinstance(result, SeriesHold):
        skipped = tuple((s.start, s.reason) for s in result.skipped)
        return ("series", tuple(_summary(b) for b in result.bookings), skipped)
    if hasattr(result, "outcome"):  # a WebhookReceipt
        return ("receipt", result.state.value, result.outcome, result.duplicate)
    return repr(type(result))


# --- the contract ----------------------------------------------------------------------------


@dataclass
class FaultReport:
    """What a contract run did: faults injected, runs made, broken invariants."""

    runs: int = 0
    injected: int = 0
    unknown_outcomes: int = 0
    broken: list[str] = field(default_factory=list)


def _long_mode() -> bool:
    return os.environ.get("BOOKING_CORE_LONG", "") == "1"


class FaultInjectionContract:
    """Every public write, with a fault at each of its steps in turn, on your adapter."""

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        """Override: the adapter under test (its schema created; it may be shared)."""
        raise NotImplementedError("override the uow_factory fixture")

    def record(self, scenario: Scenario, fault: Fault, report: FaultReport) -> None:
        """Override to collect the figures (faults injected, runs, unknown outcomes)."""

    @pytest.fixture
    def cache(self) -> CachePort | None:
        """Override to run the scenarios with a cache in front of the reads (None: no cache).

        Each faulted run then also checks that the cached availability equals the database's.
        """
        return None

    @pytest.fixture(params=SCENARIOS, ids=lambda s: s.name)
    def scenario(self, request: pytest.FixtureRequest) -> Scenario:
        return request.param  # type: ignore[no-any-return]

    @pytest.mark.parametrize("fault", list(Fault), ids=lambda f: f.value)
    def test_every_step(
        self,
        uow_factory: UnitOfWorkFactory,
        cache: CachePort | None,
        scenario: Scenario,
        fault: Fault,
    ) -> None:
        """A fault at any step leaves the result and the state of a fault-free run."""
        report = run_scenario(uow_factory, scenario, fault, cache=cache)
        self.record(scenario, fault, report)
        assert report.injected == report.runs, "every run injected its fault"
        assert report.runs > 0
        assert report.broken == [], "\n".join(report.broken)


def run_scenario(
    uow_factory: UnitOfWorkFactory,
    scenario: Scenario,
    fault: Fault,
    *,
    injector: FaultyUnitOfWorkFactory | None = None,
    cache: CachePort | None = None,
) -> FaultReport:
    """Run ``scenario`` fault-free, then with ``fault`` at each step; report what broke.

    ``injector`` counts and fails steps of its own kind (SQL statements, say) instead of the
    repository calls and commits of a :class:`FaultyUnitOfWorkFactory` around ``uow_factory``.
    With a ``cache``, the availability of the scenario's months is read (and cached) before
    the faulted call and must equal the database's after it.
    """
    faulty = injector or FaultyUnitOfWorkFactory(uow_factory)
    clean = _world(faulty, cache)
    scenario.setup(clean)
    faulty.arm(None)
    expected = _summary(scenario.run(clean))
    steps = faulty.commits if fault is Fault.LOST_REPLY else faulty.steps
    clean_digest = _digest_of(clean, scenario)
    report = FaultReport()
    for at in _plans(steps):
        world = _world(faulty, cache)
        scenario.setup(world)
        _calendar(world.app, world.tenant.id)  # warm the cache: stale entries would show
        faulty.arm(fault, *at)
        injected_before = faulty.injected
        where = f"{scenario.name}: {fault.value} at step {at}/{steps}"
        try:
            outcome: Any = _summary(scenario.run(world))
        except CommitOutcomeUnknownError:
            if scenario.recoverable or fault is not Fault.LOST_REPLY:
                report.broken.append(f"{where}: the outcome stayed unknown")
            report.unknown_outcomes += 1
            outcome = expected
        except BookingCoreError as error:  # one fault must never make a valid write fail
            outcome = f"{type(error).__name__}: {error}"
        finally:
            faulty.arm(None)
        report.runs += 1
        report.injected += min(1, faulty.injected - injected_before)
        if outcome != expected:
            report.broken.append(f"{where}: returned {outcome}, expected {expected}")
        digest = _digest_of(world, scenario)
        if digest != clean_digest:
            report.broken.append(f"{where}: state {digest}, expected {clean_digest}")
        report.broken.extend(f"{where}: {problem}" for problem in _invariants(world, scenario))
        if cache is not None and _calendar(world.app, world.tenant.id) != _calendar(
            BookingApp(uow=faulty, clock=world.clock), world.tenant.id
        ):
            report.broken.append(f"{where}: the cached availability is stale")
    return report


def _calendar(app: BookingApp, tenant_id: uuid.UUID) -> list[Any]:
    """The availability of both scenario months and the timed scenarios' slots (read through
    the app's cache, if any)."""
    dates: list[Any] = app.availability.calendar(
        tenant_id, dt.date(2030, 8, 1), dt.date(2030, 8, 31)
    )
    with app.uow(read_only=True) as uow:
        timed = uow.packages.get_by_slug(tenant_id, "massage")
    if timed is None:
        return dates
    day = dt.datetime(2030, 8, 20, tzinfo=_PARIS)
    slots = app.availability.slots(tenant_id, timed.id, day, day + dt.timedelta(days=1))
    return [*dates, *slots]


def _plans(steps: int) -> Iterator[tuple[int, ...]]:
    """Each step alone; the long mode (``BOOKING_CORE_LONG=1``) also each step and the next."""
    for at in range(steps):
        yield (at,)
    if _long_mode():
        for at in range(steps):
            yield (at, at + 1)


def _subject(world: World, scenario: Scenario) -> uuid.UUID:
    if scenario.name == "tenants.create":
        with world.app.uow(read_only=True) as uow:
            created = uow.tenants.get_by_slug(world.values["slug"])
        return uuid.UUID(int=0) if created is None else created.id
    return world.tenant.id


def _digest_of(world: World, scenario: Scenario) -> tuple[Any, ...]:
    return state_digest(
        world.app.uow, _subject(world, scenario), provider=world.provider, now=world.clock.now()
    )


def _invariants(world: World, scenario: Scenario) -> list[str]:
    tenant_id = _subject(world, scenario)
    broken = broken_invariants(
        world.app.uow, tenant_id, capacity=1, now=world.clock.now(), provider=world.provider
    )
    world.app.bookings.retry_refunds(tenant_id=tenant_id)
    with world.app.uow(read_only=True) as uow:
        unsettled = uow.refunds.unsettled(tenant_id=tenant_id, limit=100)
    broken.extend(f"refund {r.id} still {r.state.value} after retry" for r in unsettled)
    broken.extend(
        broken_invariants(
            world.app.uow, tenant_id, capacity=1, now=world.clock.now(), provider=world.provider
        )
    )
    return broken
