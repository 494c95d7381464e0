"""One test per defect of the faults-and-races review (issue 10); each failed before its fix.

The lost COMMIT replies here are real: a proxy in front of PostgreSQL lets the server commit and
then cuts the connection before its answer reaches the client.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from booking_core.adapters.payments import FakePaymentProvider
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import (
    Booking,
    BookingPolicy,
    BookingStatus,
    CancellationPolicy,
    CustomerDetails,
    RefundState,
    RefundTier,
)
from booking_core.errors import (
    BookingCoreError,
    CommitOutcomeUnknownError,
    InvalidTransitionError,
    PaymentError,
    TransientStorageError,
)
from booking_core.ports.payments import (
    PaymentEventType,
    PaymentRequest,
    PaymentSession,
    RefundRequest,
)
from booking_core.testing import ManualClock, in_memory_app
from booking_core.testing.faults import Fault, FaultyUnitOfWorkFactory, broken_invariants
from tests.faultinjection.lossy_proxy import LossyProxy

START = dt.datetime(2030, 6, 15, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2030, 8, 20)
ANN = CustomerDetails("Ann Example", "ann@example.com", None)


def _shop(app: BookingApp, *, tiers: tuple[RefundTier, ...] = (RefundTier(30, 100),)) -> Any:
    tenant = app.tenants.create(
        slug=f"defect-{uuid.uuid4().hex[:12]}",
        name="Studio",
        timezone="Europe/Paris",
        currency="EUR",
        commission_percent=10,
        policy=BookingPolicy(capacity_per_date=1),
        cancellation=CancellationPolicy(tiers=tiers),
    )
    package = app.catalog.create_package(tenant.id, slug="gold", name="Gold", base_price=100_000)
    return tenant, package


def _webhook(
    app: BookingApp, kind: PaymentEventType, booking: Booking, ref: str, **extra: Any
) -> Any:
    provider = app.payments
    assert isinstance(provider, FakePaymentProvider)
    amount = extra.pop("amount", booking.total)
    body, headers = provider.make_webhook(
        kind,
        tenant_id=booking.tenant_id,
        booking_id=booking.id,
        payment_ref=ref,
        amount=amount,
        currency=booking.currency,
        **extra,
    )
    return app.webhooks.receive(booking.tenant_id, body, headers)


def _paid_checkout(app: BookingApp, tenant_id: uuid.UUID, package_id: uuid.UUID) -> Any:
    """A checkout of DAY whose payment succeeded (the booking is CONFIRMED)."""
    checkout = app.bookings.checkout(tenant_id, package_id=package_id, date=DAY, customer=ANN)
    _webhook(
        app, PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, checkout.session.payment_ref
    )
    return checkout


def _events(app: BookingApp, booking: Booking) -> list[tuple[int, str]]:
    with app.uow(read_only=True) as uow:
        return [(e.sequence, e.type) for e in uow.outbox.for_booking(booking.tenant_id, booking.id)]


# --- 1. a retried transaction acted on the rolled-back attempt ---------------------------------


class _FailingCommit(FaultyUnitOfWorkFactory):
    """Fails the commit numbered ``index`` (from :meth:`arm`) before it takes effect."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.index: int | None = None

    def _commit_step(self) -> Fault | None:
        fault = super()._commit_step()
        if self.commits - 1 == self.index:
            self.injected += 1
            raise TransientStorageError("injected: serialization failure at COMMIT")
        return fault


def test_late_payment_refund_is_decided_once_when_its_commit_is_retried() -> None:
    """Late payment on a cancelled booking, one transient failure at the processing commit:
    the provider executes one refund, the stored one SUCCEEDED, retry_refunds has nothing."""
    clock = ManualClock(START)
    provider = FakePaymentProvider(clock=clock)
    faulty = _FailingCommit(in_memory_app().uow)
    app = BookingApp(uow=faulty, clock=clock, payments=provider)
    tenant, package = _shop(app)
    checkout = app.bookings.checkout(tenant.id, package_id=package.id, date=DAY, customer=ANN)
    app.bookings.cancel(tenant.id, checkout.booking.id)
    faulty.arm(None)
    faulty.index = 1  # commit 0 records the event in the inbox, commit 1 processes it
    receipt = _webhook(
        app, PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, checkout.session.payment_ref
    )
    assert faulty.injected == 1
    assert receipt.outcome == "refunded_late_payment"
    refunds = app.bookings.refunds(tenant.id, checkout.booking.id)
    assert [(r.amount, r.state) for r in refunds] == [(100_000, RefundState.SUCCEEDED)]
    assert [r.amount for r in provider.refunds] == [100_000]
    assert app.bookings.retry_refunds(tenant_id=tenant.id) == []
    now = clock.now()
    assert broken_invariants(app.uow, tenant.id, capacity=1, now=now, provider=provider) == []


# --- 2. a lost COMMIT reply re-ran a committed transaction (real PostgreSQL) -------------------


@pytest.fixture
def lossy_app(lossy_pg: tuple[str, LossyProxy]) -> Iterator[tuple[BookingApp, LossyProxy]]:
    url, proxy = lossy_pg
    clock = ManualClock(START)
    with connect(url, clock=clock, payments=FakePaymentProvider(clock=clock)) as app:
        yield app, proxy


@contextlib.contextmanager
def _cut_once(proxy: LossyProxy) -> Iterator[None]:
    before = proxy.cuts
    proxy.lose_next_commit_reply()
    yield
    assert proxy.cuts == before + 1, "the COMMIT reply was lost once"


@pytest.mark.postgres
def test_lost_reply_tenant_create_returns_the_tenant(
    lossy_app: tuple[BookingApp, LossyProxy],
) -> None:
    """When the COMMIT reply of tenants.create is lost, the call still returns the tenant that was
    created, found by its slug."""
    app, proxy = lossy_app
    slug = f"lost-{uuid.uuid4().hex[:10]}"
    with _cut_once(proxy):
        tenant = app.tenants.create(slug=slug, name="Lost", timezone="UTC", currency="EUR")
    assert app.tenants.get_by_slug(slug).id == tenant.id


@pytest.mark.postgres
def test_lost_reply_hold_returns_its_booking(lossy_app: tuple[BookingApp, LossyProxy]) -> None:
    """When the COMMIT reply of a hold is lost, the call returns the PENDING booking that was
    written, with one booking.held event."""
    app, proxy = lossy_app
    tenant, package = _shop(app)
    with _cut_once(proxy):
        booking = app.bookings.hold(tenant.id, package_id=package.id, date=DAY, customer=ANN)
    assert booking.status is BookingStatus.PENDING
    assert [b.id for b in app.bookings.list_for_dates(tenant.id, DAY, DAY)] == [booking.id]
    assert _events(app, booking) == [(1, "booking.held")]


@pytest.mark.postgres
def test_lost_reply_refund_is_recorded_once(lossy_app: tuple[BookingApp, LossyProxy]) -> None:
    """When the COMMIT reply of a refund is lost, the refund is SUCCEEDED and recorded once."""
    app, proxy = lossy_app
    tenant, package = _shop(app)
    checkout = _paid_checkout(app, tenant.id, package.id)
    with _cut_once(proxy):
        refund = app.bookings.refund(tenant.id, checkout.booking.id, amount=1000)
    assert refund.state is RefundState.SUCCEEDED
    assert [r.amount for r in app.bookings.refunds(tenant.id, checkout.booking.id)] == [1000]
    assert app.bookings.get(tenant.id, checkout.booking.id).amount_refunded == 1000


@pytest.mark.postgres
def test_lost_reply_cancel_settles_its_refund(lossy_app: tuple[BookingApp, LossyProxy]) -> None:
    """When the COMMIT reply of a cancel is lost, the cancellation returns its full refund,
    SUCCEEDED."""
    app, proxy = lossy_app
    tenant, package = _shop(app)
    checkout = _paid_checkout(app, tenant.id, package.id)
    with _cut_once(proxy):
        cancellation = app.bookings.cancel(tenant.id, checkout.booking.id)
    assert cancellation.refund_amount == 100_000
    assert cancellation.refund is not None
    assert cancellation.refund.state is RefundState.SUCCEEDED
    assert cancellation.refund_percent == 100


@pytest.mark.postgres
def test_lost_reply_of_a_write_that_cannot_tell_is_a_typed_error(
    lossy_app: tuple[BookingApp, LossyProxy],
) -> None:
    """Creating a catalog entry does not look for its first attempt: the caller is told."""
    app, proxy = lossy_app
    tenant, _package = _shop(app)
    with pytest.raises(CommitOutcomeUnknownError), _cut_once(proxy):
        app.catalog.create_package(tenant.id, slug="silver", name="Silver", base_price=1)
    assert {p.slug for p in app.catalog.list_packages(tenant.id)} == {"gold", "silver"}


# --- 3. cancel racing reschedule ----------------------------------------------------------------


@pytest.fixture
def race_app(lossy_pg: tuple[str, LossyProxy]) -> Iterator[BookingApp]:
    clock = ManualClock(START)
    url = lossy_pg[0]  # the proxy forwards everything while it is not armed
    with connect(url, clock=clock, payments=FakePaymentProvider(clock=clock)) as app:
        yield app


@pytest.mark.postgres
def test_cancel_racing_reschedule_never_leaves_a_claim(race_app: BookingApp) -> None:
    """Both calls at a barrier, 40 rounds: a CANCELED booking never keeps a seat."""
    app = race_app
    tenant, package = _shop(app)
    for round_ in range(40):
        day = DAY + dt.timedelta(days=2 * round_)
        booking = app.bookings.hold(tenant.id, package_id=package.id, date=day, customer=ANN)
        app.bookings.confirm(tenant.id, booking.id, payment_ref=f"pay_{round_}")
        barrier = threading.Barrier(2)

        def cancel(booking: Booking = booking, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            app.bookings.cancel(tenant.id, booking.id)

        def move(
            booking: Booking = booking, barrier: threading.Barrier = barrier, day: dt.date = day
        ) -> None:
            barrier.wait()
            with contextlib.suppress(InvalidTransitionError):  # cancel won
                app.bookings.reschedule(tenant.id, booking.id, new_date=day + dt.timedelta(days=1))

        threads = [threading.Thread(target=cancel), threading.Thread(target=move)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert app.bookings.get(tenant.id, booking.id).status is BookingStatus.CANCELED
    assert broken_invariants(app.uow, tenant.id, capacity=1, now=START) == []


# --- 4. an idempotent checkout replay paid a cancelled booking ----------------------------------


class _RefusingProvider(FakePaymentProvider):
    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock=clock)
        self.refuse = True
        self.created = 0

    def create_payment(self, request: PaymentRequest) -> PaymentSession:
        if self.refuse:
            raise PaymentError("the provider is down")
        self.created += 1
        return super().create_payment(request)


def test_checkout_retry_after_a_refused_payment_starts_afresh() -> None:
    """After the provider refused the payment, retrying the checkout with the same key makes a new
    PENDING booking and one payment; the first booking stays cancelled."""
    clock = ManualClock(START)
    provider = _RefusingProvider(clock)
    app = in_memory_app(clock=clock, payments=provider)
    tenant, package = _shop(app)

    def checkout() -> Any:
        return app.bookings.checkout(
            tenant.id, package_id=package.id, date=DAY, customer=ANN, idempotency_key="order-7"
        )

    with pytest.raises(PaymentError):
        checkout()
    provider.refuse = False
    retried = checkout()
    assert retried.booking.status is BookingStatus.PENDING
    assert provider.created == 1
    statuses = [b.status for b in app.bookings.list_for_dates(tenant.id, DAY, DAY)]
    assert sorted(statuses) == [BookingStatus.CANCELED, BookingStatus.PENDING]


def test_checkout_replay_of_a_cancelled_booking_creates_no_payment() -> None:
    """Replaying a checkout's key after its booking was cancelled raises InvalidTransitionError
    naming CANCELED and creates no second payment."""
    clock = ManualClock(START)
    provider = _RefusingProvider(clock)
    provider.refuse = False
    app = in_memory_app(clock=clock, payments=provider)
    tenant, package = _shop(app)
    first = app.bookings.checkout(
        tenant.id, package_id=package.id, date=DAY, customer=ANN, idempotency_key="order-8"
    )
    app.bookings.cancel(tenant.id, first.booking.id)
    with pytest.raises(InvalidTransitionError) as raised:
        app.bookings.checkout(
            tenant.id, package_id=package.id, date=DAY, customer=ANN, idempotency_key="order-8"
        )
    assert "CANCELED" in str(raised.value)
    assert provider.created == 1


# --- 5. one payment, two success events ----------------------------------------------------------


def test_second_success_event_of_a_payment_refunds_nothing_after_a_0_percent_cancel() -> None:
    """A second payment.succeeded event for a payment already recorded, after a 0 % cancel, is
    'payment_already_recorded' and refunds nothing."""
    clock = ManualClock(START)
    app = in_memory_app(clock=clock, payments=FakePaymentProvider(clock=clock))
    tenant, package = _shop(app, tiers=())  # cancelling refunds 0 %
    checkout = app.bookings.checkout(tenant.id, package_id=package.id, date=DAY, customer=ANN)
    ref = checkout.session.payment_ref
    _webhook(app, PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, ref)
    assert app.bookings.cancel(tenant.id, checkout.booking.id).refund_amount == 0
    again = _webhook(
        app, PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, ref, event_id="evt_2"
    )
    assert again.outcome == "payment_already_recorded"
    booking = app.bookings.get(tenant.id, checkout.booking.id)
    assert (booking.amount_paid, booking.amount_refunded) == (100_000, 0)
    assert app.bookings.refunds(tenant.id, booking.id) == []


def test_second_success_event_after_a_refunded_late_payment_keeps_the_booking_expired() -> None:
    """After a late payment was refunded because the date was taken, a second success event, even
    once the date is free, leaves the booking EXPIRED with one refund."""
    clock = ManualClock(START)
    app = in_memory_app(clock=clock, payments=FakePaymentProvider(clock=clock))
    tenant, package = _shop(app)
    checkout = app.bookings.checkout(tenant.id, package_id=package.id, date=DAY, customer=ANN)
    clock.advance(dt.timedelta(hours=1))  # the hold lapses; someone else takes the date
    other = app.bookings.hold(
        tenant.id,
        package_id=package.id,
        date=DAY,
        customer=CustomerDetails("Bo", "bo@example.com", None),
    )
    ref = checkout.session.payment_ref
    first = _webhook(app, PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, ref)
    assert first.outcome == "refunded_late_payment"
    app.bookings.cancel(tenant.id, other.id)  # the date is free again
    again = _webhook(
        app, PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, ref, event_id="evt_2"
    )
    assert again.outcome == "payment_already_recorded"
    booking = app.bookings.get(tenant.id, checkout.booking.id)
    assert booking.status is BookingStatus.EXPIRED
    assert (booking.amount_paid, booking.amount_refunded) == (100_000, 100_000)
    assert [r.amount for r in app.bookings.refunds(tenant.id, booking.id)] == [100_000]


# --- 6. outbox sequence gaps ---------------------------------------------------------------------


def test_late_payment_on_a_cancelled_booking_numbers_every_change() -> None:
    """A payment arriving for a cancelled booking writes paid_late, refund.requested and
    refund.succeeded events numbered on from the booking's earlier ones."""
    clock = ManualClock(START)
    app = in_memory_app(clock=clock, payments=FakePaymentProvider(clock=clock))
    tenant, package = _shop(app)
    checkout = app.bookings.checkout(tenant.id, package_id=package.id, date=DAY, customer=ANN)
    app.bookings.cancel(tenant.id, checkout.booking.id)
    _webhook(
        app, PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, checkout.session.payment_ref
    )
    assert _events(app, checkout.booking) == [
        (1, "booking.held"),
        (2, "booking.canceled"),
        (3, "booking.paid_late"),
        (4, "refund.requested"),
        (5, "refund.succeeded"),
    ]


def test_payment_after_the_hold_lapsed_is_one_change_with_one_event() -> None:
    """Confirming a lapsed hold on payment is one change: one booking.confirmed event, and the
    booking's version is 3."""
    clock = ManualClock(START)
    app = in_memory_app(clock=clock, payments=FakePaymentProvider(clock=clock))
    tenant, package = _shop(app)
    checkout = app.bookings.checkout(tenant.id, package_id=package.id, date=DAY, customer=ANN)
    clock.advance(dt.timedelta(hours=1))
    app.bookings.expire_holds(tenant_id=tenant.id)
    receipt = _webhook(
        app, PaymentEventType.PAYMENT_SUCCEEDED, checkout.booking, checkout.session.payment_ref
    )
    assert receipt.outcome == "confirmed_after_expiry"
    assert _events(app, checkout.booking) == [
        (1, "booking.held"),
        (2, "booking.expired"),
        (3, "booking.confirmed"),
    ]
    assert app.bookings.get(tenant.id, checkout.booking.id).version == 3


def test_errors_stay_in_the_hierarchy() -> None:
    """CommitOutcomeUnknownError derives from BookingCoreError."""
    assert issubclass(CommitOutcomeUnknownError, BookingCoreError)


# --- found by the race matrix and the event fuzzer (tests/faults) -------------------------------


def test_checkout_replay_after_a_reschedule_returns_the_same_payment() -> None:
    """The payment request never changes under its key, and a refused replay never cancels."""
    clock = ManualClock(START)
    provider = FakePaymentProvider(clock=clock)
    app = in_memory_app(clock=clock, payments=provider)
    tenant, package = _shop(app)

    def checkout() -> Any:
        return app.bookings.checkout(
            tenant.id, package_id=package.id, date=DAY, customer=ANN, idempotency_key="order-9"
        )

    first = checkout()
    moved = app.bookings.reschedule(
        tenant.id, first.booking.id, new_date=DAY + dt.timedelta(days=1)
    )
    again = checkout()
    assert again.session == first.session
    assert again.booking.id == first.booking.id
    assert again.booking.event_date == moved.event_date
    assert again.booking.status is BookingStatus.PENDING


@pytest.mark.postgres
def test_one_dashboard_refund_reported_twice_at_once_is_recorded_once(
    race_app: BookingApp,
) -> None:
    """Two event ids for one provider refund, processed at a barrier, 10 rounds."""
    app = race_app
    provider = app.payments
    assert isinstance(provider, FakePaymentProvider)
    tenant, package = _shop(app)
    for round_ in range(10):
        day = DAY + dt.timedelta(days=round_)
        checkout = app.bookings.checkout(tenant.id, package_id=package.id, date=day, customer=ANN)
        booking, ref = checkout.booking, checkout.session.payment_ref
        _webhook(app, PaymentEventType.PAYMENT_SUCCEEDED, booking, ref)
        refund = provider.refund(
            RefundRequest(
                tenant_id=tenant.id,
                booking_id=booking.id,
                payment_ref=ref,
                amount=2_500,
                currency="EUR",
                reason="goodwill",
                idempotency_key=f"dash-{booking.id}",
            )
        )
        barrier = threading.Barrier(2)

        def report(
            event_id: str,
            barrier: threading.Barrier = barrier,
            booking: Booking = booking,
            ref: str = ref,
            refund_id: str = refund.provider_refund_id or "",
        ) -> None:
            barrier.wait()
            _webhook(
                app,
                PaymentEventType.REFUND_SUCCEEDED,
                booking,
                ref,
                amount=2_500,
                event_id=event_id,
                provider_refund_id=refund_id,
            )

        threads = [threading.Thread(target=report, args=(f"evt_{round_}_{n}",)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        recorded = app.bookings.refunds(tenant.id, booking.id)
        assert [r.amount for r in recorded] == [2_500]
        assert app.bookings.get(tenant.id, booking.id).amount_refunded == 2_500


class _EagerProvider(FakePaymentProvider):
    """Reports each refund by webhook before its own API call returns (providers do)."""

    app: BookingApp

    def refund(self, request: RefundRequest) -> Any:
        result = super().refund(request)
        if result.succeeded:
            body, headers = self.make_webhook(
                PaymentEventType.REFUND_SUCCEEDED,
                tenant_id=request.tenant_id,
                booking_id=request.booking_id,
                payment_ref=request.payment_ref,
                amount=request.amount,
                currency=request.currency,
                provider_refund_id=result.provider_refund_id,
            )
            self.app.webhooks.receive(request.tenant_id, body, headers)
        return result


def test_a_refund_reported_before_its_answer_is_recorded_counts_once() -> None:
    """When the provider's refund webhook arrives before the refund call returns, the refund is
    recorded once, SUCCEEDED, and no invariant breaks."""
    clock = ManualClock(START)
    provider = _EagerProvider(clock=clock)
    app = in_memory_app(clock=clock, payments=provider)
    provider.app = app
    tenant, package = _shop(app, tiers=(RefundTier(30, 50),))
    checkout = _paid_checkout(app, tenant.id, package.id)
    cancellation = app.bookings.cancel(tenant.id, checkout.booking.id)
    assert cancellation.refund is not None
    assert cancellation.refund.state is RefundState.SUCCEEDED
    refunds = app.bookings.refunds(tenant.id, checkout.booking.id)
    assert [(r.amount, r.state) for r in refunds] == [(50_000, RefundState.SUCCEEDED)]
    assert app.bookings.get(tenant.id, checkout.booking.id).amount_refunded == 50_000
    assert [r.amount for r in provider.refunds] == [50_000]
    now = clock.now()
    assert broken_invariants(app.uow, tenant.id, capacity=1, now=now, provider=provider) == []


@pytest.mark.postgres
def test_one_refund_settled_by_two_workers_at_once_is_recorded_once(race_app: BookingApp) -> None:
    """Two retry_refunds() at a barrier settle one PENDING refund: one outcome, one event."""
    app = race_app
    provider = app.payments
    assert isinstance(provider, FakePaymentProvider)
    tenant, package = _shop(app)
    for round_ in range(15):
        day = DAY + dt.timedelta(days=round_)
        checkout = app.bookings.checkout(tenant.id, package_id=package.id, date=day, customer=ANN)
        booking, ref = checkout.booking, checkout.session.payment_ref
        _webhook(app, PaymentEventType.PAYMENT_SUCCEEDED, booking, ref)
        provider.fail_next_refund("try again later")  # the refund stays unsettled (FAILED)
        app.bookings.refund(tenant.id, booking.id, amount=1_000)
        barrier = threading.Barrier(2)

        def settle(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            app.bookings.retry_refunds(tenant_id=tenant.id)

        threads = [threading.Thread(target=settle) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        kinds = [kind for _, kind in _events(app, booking)]
        assert kinds.count("refund.succeeded") == 1, kinds
        (refund,) = app.bookings.refunds(tenant.id, booking.id)
        assert refund.state is RefundState.SUCCEEDED
    assert broken_invariants(app.uow, tenant.id, capacity=1, now=START, provider=provider) == []
