"""Bookings and seats: holds never over capacity, lapsed seats, transitions, moves."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import replace

import pytest

from booking_core.domain import lifecycle
from booking_core.domain.ids import TENANT_WIDE
from booking_core.domain.model import (
    BlackoutDate,
    Booking,
    BookingStatus,
    HeldSeat,
    IdempotencyRecord,
    OutboxEvent,
)
from booking_core.errors import (
    BookingConflictError,
    HoldExpiredError,
    TransientStorageError,
    ValidationError,
)
from booking_core.ports.repositories import UnitOfWorkFactory
from booking_core.services._lifecycle import store
from booking_core.testing.contracts._shop import (
    _MINUTE,
    DAY,
    HOLD,
    NOW,
    Shop,
    _hold,
    _seats,
    _UowBase,
)


class BookingsContract(_UowBase):
    """Bookings and seats: holds never over capacity, lapsed seats, transitions, moves."""

    # -- bookings and seats ---------------------------------------------------------------------

    def test_place_hold_stores_booking_customer_and_seat(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """place_hold stores the booking (with its lines) under the stored customer's id and
        claims one seat that expires with the hold."""
        booking = shop.booking()
        placed = _hold(uow_factory, booking, capacity=1, email="hold@example.com")
        assert placed is not None
        with uow_factory(read_only=True) as uow:
            customer = uow.customers.find_by_email(shop.tenant_id, "hold@example.com")
            assert customer is not None
            assert placed == replace(booking, customer_id=customer.id)
            assert uow.bookings.get(shop.tenant_id, booking.id) == placed
            assert uow.bookings.list_for_dates(shop.tenant_id, DAY, DAY) == [placed]
        assert _seats(uow_factory, shop) == [HeldSeat(DAY, NOW + HOLD)]

    def test_place_hold_reuses_the_customer(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """Two holds with one email share one customer."""
        first = _hold(uow_factory, shop.booking(), capacity=5, email="twice@example.com")
        second = _hold(uow_factory, shop.booking(), capacity=5, email="twice@example.com")
        assert first is not None
        assert second is not None
        assert first.customer_id == second.customer_id
        with uow_factory(read_only=True) as uow:
            assert len(uow.customers.list(shop.tenant_id, limit=10, offset=0)) == 1

    def test_capacity_is_never_exceeded(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """With capacity 2 the third hold on a date gets None; rolled back, it leaves nothing."""
        first = _hold(uow_factory, shop.booking(), capacity=2)
        second = _hold(uow_factory, shop.booking(), capacity=2)
        third = shop.booking()
        assert first is not None
        assert second is not None
        assert _hold(uow_factory, third, capacity=2) is None
        assert len(_seats(uow_factory, shop)) == 2
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(shop.tenant_id, third.id) is None
            assert {b.id for b in uow.bookings.list_for_dates(shop.tenant_id, DAY, DAY)} == {
                first.id,
                second.id,
            }
        other_day = DAY + dt.timedelta(days=1)
        assert _hold(uow_factory, shop.booking(date=other_day), capacity=2) is not None

    def test_venues_and_tenant_wide_seats_are_separate_pools(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """A venue's seats do not use the tenant-wide seats of the date, and vice versa."""
        assert _hold(uow_factory, shop.booking(), capacity=1) is not None
        assert _hold(uow_factory, shop.booking(venue=True), capacity=1) is not None
        assert _hold(uow_factory, shop.booking(venue=True), capacity=1) is None
        assert _seats(uow_factory, shop) == [HeldSeat(DAY, NOW + HOLD)]
        assert _seats(uow_factory, shop, resource=shop.venue.id) == [HeldSeat(DAY, NOW + HOLD)]

    def test_lapsed_seats_are_taken_over(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """A seat whose hold lapsed is free: a later hold takes it over, and the lapsed booking
        no longer holds anything (settling it finds no seat)."""
        lapsed = _hold(uow_factory, shop.booking(), capacity=1)
        assert lapsed is not None
        just_before = NOW + HOLD - _MINUTE
        assert _hold(uow_factory, shop.booking(created_at=just_before), capacity=1,
                     now=just_before) is None  # fmt: skip
        later = NOW + HOLD  # expiry is exclusive: at expires_at the hold has lapsed
        taker = _hold(uow_factory, shop.booking(created_at=later), capacity=1, now=later)
        assert taker is not None
        assert _seats(uow_factory, shop) == [HeldSeat(DAY, later + HOLD)]
        with uow_factory() as uow:
            assert uow.bookings.settle_claims(shop.tenant_id, lapsed.id) == 0
            assert uow.bookings.release_claims(shop.tenant_id, lapsed.id) == 0
            assert uow.bookings.settle_claims(shop.tenant_id, taker.id) == 1
            uow.commit()
        assert _seats(uow_factory, shop) == [HeldSeat(DAY, None)]

    def test_settled_seats_never_lapse(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """A settled seat (confirmed booking) has no expiry: it is never taken over."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            assert uow.bookings.settle_claims(shop.tenant_id, held.id) == 1
            uow.commit()
        far = NOW + dt.timedelta(days=30)
        assert _hold(uow_factory, shop.booking(created_at=far), capacity=1, now=far) is None

    def test_release_claims_frees_the_seat(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """release_claims returns how many seats it freed; the date is bookable again."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            assert uow.bookings.release_claims(shop.tenant_id, held.id) == 1
            assert uow.bookings.release_claims(shop.tenant_id, held.id) == 0
            uow.commit()
        assert _seats(uow_factory, shop) == []
        assert _hold(uow_factory, shop.booking(), capacity=1) is not None

    def test_concurrent_holds_never_exceed_capacity(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """Eight transactions in eight threads race for two seats: exactly two win."""
        contenders, capacity = 8, 2
        barrier = threading.Barrier(contenders)
        results: list[Booking | None] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def contend() -> None:
            try:
                barrier.wait(timeout=10)
                for _attempt in range(20):  # TransientStorageError: retry, as services do
                    try:
                        placed = _hold(uow_factory, shop.booking(), capacity=capacity)
                    except TransientStorageError:
                        continue
                    with lock:
                        results.append(placed)
                    return
            except BaseException as error:  # reported by the test thread below
                with lock:
                    errors.append(error)

        threads = [threading.Thread(target=contend) for _ in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len(results) == contenders
        assert sum(placed is not None for placed in results) == capacity
        assert len(_seats(uow_factory, shop)) == capacity

    def test_hold_context(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """hold_context reads tenant, package, venue, blackout and live seats of the pool;
        an unknown tenant gives None."""
        _hold(uow_factory, shop.booking(), capacity=2)
        _hold(uow_factory, shop.booking(created_at=NOW - HOLD * 2), capacity=2, now=NOW - HOLD * 2)
        with uow_factory() as uow:
            uow.blackouts.add(BlackoutDate(shop.tenant_id, DAY, "holiday"))
            uow.commit()
        with uow_factory(read_only=True) as uow:
            tid, pid = shop.tenant_id, shop.package.id
            context = uow.bookings.hold_context(tid, pid, None, DAY, NOW)
            assert context is not None
            assert (context.tenant, context.package, context.venue) == (
                shop.tenant,
                shop.package,
                None,
            )
            assert (context.blackout, context.seats_held) == (True, 1)  # one lapsed
            in_venue = uow.bookings.hold_context(tid, pid, shop.venue.id, DAY, NOW)
            assert in_venue is not None
            assert (in_venue.venue, in_venue.seats_held) == (shop.venue, 0)
            unknown = uow.bookings.hold_context(tid, uuid.uuid4(), None, DAY, NOW)
            assert unknown is not None
            assert unknown.package is None
            assert uow.bookings.hold_context(uuid.uuid4(), pid, None, DAY, NOW) is None

    def test_held_seats_cover_a_range(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """held_seats lists live and lapsed seats of dates in [start, end], by date."""
        days = [DAY + dt.timedelta(days=n) for n in (0, 2, 5)]
        earlier = NOW - HOLD * 4
        _hold(uow_factory, shop.booking(date=days[1]), capacity=1)
        _hold(uow_factory, shop.booking(date=days[0], created_at=earlier), capacity=1, now=earlier)
        _hold(uow_factory, shop.booking(date=days[2]), capacity=1)
        with uow_factory(read_only=True) as uow:
            seats = uow.bookings.held_seats(shop.tenant_id, TENANT_WIDE, days[0], days[1])
            assert seats == [HeldSeat(days[0], earlier + HOLD), HeldSeat(days[1], NOW + HOLD)]
            assert [s.is_live(NOW) for s in seats] == [False, True]
            everything = uow.bookings.held_seats(shop.tenant_id, TENANT_WIDE, days[0], days[2])
            assert [s.date for s in everything] == days

    def test_save_is_a_compare_and_swap(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """save() stores a change (its fields, the version + 1), its outbox event and its seat
        effect, only while the stored version is the one the change was decided from; a stale
        change raises TransientStorageError and writes nothing."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        change = lifecycle.confirm(
            held, payment_ref="pay_1", amount_paid=300_000, now=NOW + _MINUTE
        )
        assert change is not None
        with uow_factory() as uow:
            assert uow.bookings.save(change) == 1  # its event, and its one claim settled
            uow.commit()
        confirmed = change.after
        expected = replace(
            held,
            status=BookingStatus.CONFIRMED,
            version=2,
            confirmed_at=NOW + _MINUTE,
            payment_ref="pay_1",
            amount_paid=300_000,
        )
        assert confirmed == expected
        stale = lifecycle.cancel(held, reason="", now=NOW + _MINUTE)
        assert stale is not None
        with uow_factory() as uow, pytest.raises(TransientStorageError):
            uow.bookings.save(stale)
        assert [seat.expires_at for seat in _seats(uow_factory, shop)] == [None]  # settled
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(shop.tenant_id, held.id) == expected
            events = uow.outbox.for_booking(shop.tenant_id, held.id)
            assert [(e.id, e.sequence, e.type) for e in events] == [
                (change.event.id, 2, "booking.confirmed")
            ]

    def test_a_confirm_without_an_amount_pays_the_total(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """A confirm with no ``amount_paid`` stores the booking's own total as paid."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        change = lifecycle.confirm(held, payment_ref="pay_1", amount_paid=None, now=NOW)
        assert change is not None
        with uow_factory() as uow:
            uow.bookings.save(change)
            uow.commit()
        paid = change.after
        assert paid.amount_paid == held.total > 0
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(shop.tenant_id, held.id) == paid

    def test_a_lapsed_hold_is_not_confirmed_but_its_failed_payment_releases_it(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """At or after its expiry a hold can no longer be confirmed; a failed payment still
        releases it (PENDING → CANCELED), and save() stores exactly that."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with pytest.raises(HoldExpiredError):
            lifecycle.confirm(held, payment_ref="pay_1", amount_paid=None, now=NOW + HOLD)
        change = lifecycle.release_unpaid(held, reason="changed plans", now=NOW + HOLD)
        assert change is not None
        with uow_factory() as uow:
            assert uow.bookings.save(change) == 1  # its lapsed claim freed
            uow.commit()
        canceled = change.after
        assert _seats(uow_factory, shop) == []
        assert canceled == replace(
            held,
            status=BookingStatus.CANCELED,
            version=2,
            cancel_reason="changed plans",
            canceled_at=NOW + HOLD,
        )
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(shop.tenant_id, held.id) == canceled

    def test_lapsed_lists_due_holds_earliest_first(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """lapsed() lists PENDING holds past their expiry, earliest expiry first, up to
        ``limit``; expiring them (save) frees their seats; live holds and other statuses
        stay."""
        days = [DAY + dt.timedelta(days=n) for n in range(4)]
        first = _hold(uow_factory, shop.booking(date=days[0], ttl=_MINUTE), capacity=1)
        second = _hold(uow_factory, shop.booking(date=days[1], ttl=_MINUTE * 2), capacity=1)
        live = _hold(uow_factory, shop.booking(date=days[2], ttl=HOLD * 10), capacity=1)
        settled = _hold(uow_factory, shop.booking(date=days[3], ttl=_MINUTE), capacity=1)
        assert first is not None
        assert second is not None
        assert live is not None
        assert settled is not None
        confirm = lifecycle.confirm(settled, payment_ref="pay_1", amount_paid=None, now=NOW)
        assert confirm is not None
        with uow_factory() as uow:
            assert uow.bookings.save(confirm) == 1  # settled: it never lapses now
            uow.commit()
        later = NOW + HOLD
        with uow_factory() as uow:
            due = uow.bookings.lapsed(later, tenant_id=shop.tenant_id, limit=1)
            assert due == [first]
            changes = [lifecycle.expire(b, now=later) for b in due]
            assert [uow.bookings.save(change) for change in changes] == [1]  # seat freed
            uow.commit()
        expired = [change.after for change in changes]
        assert expired == [replace(first, status=BookingStatus.EXPIRED, version=2)]
        with uow_factory() as uow:
            rest = uow.bookings.lapsed(later, tenant_id=None, limit=10_000)
            assert [b.id for b in rest if b.tenant_id == shop.tenant_id] == [second.id]
            assert uow.bookings.save(lifecycle.expire(second, now=later)) == 1
            uow.commit()
        with uow_factory(read_only=True) as uow:
            statuses = [
                uow.bookings.get(shop.tenant_id, b.id).status  # type: ignore[union-attr]
                for b in (first, second, live, settled)
            ]
            assert statuses == ["EXPIRED", "EXPIRED", "PENDING", "CONFIRMED"]
            seats = uow.bookings.held_seats(shop.tenant_id, TENANT_WIDE, days[0], days[3])
            assert [s.date for s in seats] == [days[2], days[3]]
            assert uow.bookings.lapsed(later, tenant_id=shop.tenant_id, limit=10) == []

    def test_a_move_takes_a_seat_on_the_new_date(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """A stored reschedule claims a seat on the new date (same expiry), frees the old one
        and bumps the version; onto a full date it raises BookingConflictError and, rolled
        back, changes nothing."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        new_day = DAY + dt.timedelta(days=3)
        blocker = _hold(uow_factory, shop.booking(date=DAY + dt.timedelta(days=1)), capacity=1)
        assert held is not None
        assert blocker is not None
        with uow_factory() as uow:
            moved = store(uow, lifecycle.reschedule(held, new_day, now=NOW), now=NOW, capacity=1)
            uow.commit()
        assert moved == replace(held, event_date=new_day, version=2)
        assert _seats(uow_factory, shop) == []
        assert _seats(uow_factory, shop, new_day) == [HeldSeat(new_day, NOW + HOLD)]
        onto_full = lifecycle.reschedule(moved, blocker.event_date, now=NOW)
        with uow_factory() as uow, pytest.raises(BookingConflictError):
            store(uow, onto_full, now=NOW, capacity=1)
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(shop.tenant_id, held.id) == moved
        assert _seats(uow_factory, shop, new_day) == [HeldSeat(new_day, NOW + HOLD)]

    def test_refunds_never_pass_what_was_paid(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """Refunds count up to what was paid (and the commission in proportion), each bumping
        the version; beyond that the domain refuses, and a refund decided from a stale version
        cannot be stored."""
        held = _hold(uow_factory, shop.booking(total=100_000), capacity=1)
        assert held is not None
        paid = lifecycle.confirm(held, payment_ref="pay_1", amount_paid=100_000, now=NOW)
        assert paid is not None
        with uow_factory() as uow:
            uow.bookings.save(paid)
            uow.commit()
        confirmed = paid.after
        tid = shop.tenant_id
        with uow_factory() as uow:
            first = lifecycle.refund(confirmed, amount=60_000, now=NOW, refund_id=uuid.uuid4())
            assert uow.bookings.save(first) == 0  # a refund keeps the seat as it is
            partial = first.after
            assert (partial.amount_refunded, partial.commission_refunded) == (60_000, 6_000)
            assert partial.version == 3
            with pytest.raises(ValidationError):
                lifecycle.refund(partial, amount=40_001, now=NOW, refund_id=uuid.uuid4())
            with pytest.raises(ValidationError):
                lifecycle.refund(partial, amount=0, now=NOW, refund_id=uuid.uuid4())
            twice = lifecycle.refund(confirmed, amount=60_000, now=NOW, refund_id=uuid.uuid4())
            with pytest.raises(TransientStorageError):
                uow.bookings.save(twice)  # decided from the version before the first refund
            last = lifecycle.refund(partial, amount=40_000, now=NOW, refund_id=uuid.uuid4())
            uow.bookings.save(last)
            uow.commit()
        rest = last.after
        assert (rest.amount_refunded, rest.commission_refunded, rest.version) == (
            100_000,
            10_000,
            4,
        )
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(tid, held.id) == rest

    def test_a_stale_move_changes_nothing(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """A reschedule of a booking changed since it was read (here: cancelled) raises
        TransientStorageError and changes nothing: a racing cancel always wins cleanly."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        cancel = lifecycle.cancel(held, reason="", now=NOW)
        assert cancel is not None
        with uow_factory() as uow:
            assert uow.bookings.save(cancel) == 1  # its seat freed with it
            uow.commit()
        canceled = cancel.after
        new_day = DAY + dt.timedelta(days=3)
        stale = lifecycle.reschedule(held, new_day, now=NOW)
        with uow_factory() as uow, pytest.raises(TransientStorageError):
            store(uow, stale, now=NOW, capacity=1)
        assert _seats(uow_factory, shop, new_day) == []
        with uow_factory(read_only=True) as uow:
            stored = uow.bookings.get(shop.tenant_id, held.id)
        assert stored is not None
        assert (stored.event_date, stored.version) == (DAY, canceled.version)

    def test_claim_seat_on_the_bookings_own_date(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """claim_seat() takes a free seat of the booking's date with its expiry (None: for
        good) and no version change; False when the date is full."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            assert uow.bookings.release_claims(shop.tenant_id, held.id) == 1
            assert uow.bookings.claim_seat(held, capacity=1, now=NOW, expires_at=None) is True
            other = shop.booking()
            taken = uow.bookings.claim_seat(other, capacity=1, now=NOW, expires_at=other.expires_at)
            assert taken is False
            uow.commit()
        assert [seat.expires_at for seat in _seats(uow_factory, shop)] == [None]
        with uow_factory(read_only=True) as uow:
            stored = uow.bookings.get(shop.tenant_id, held.id)
        assert stored is not None
        assert stored.version == held.version

    def test_live_seats_past_a_lowered_capacity_still_count(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """A live claim on a seat past the capacity (claimed before it was lowered) takes the
        top seat: with two seats cut to one and seat 1 still held, no seat can be claimed,
        though seat 0 is free; once seat 1 is freed, seat 0 can be."""
        first = _hold(uow_factory, shop.booking(), capacity=2)
        second = _hold(uow_factory, shop.booking(), capacity=2)
        assert first is not None
        assert second is not None
        with uow_factory() as uow:
            assert uow.bookings.release_claims(shop.tenant_id, first.id) == 1
            other = shop.booking()
            taken = uow.bookings.claim_seat(other, capacity=1, now=NOW, expires_at=other.expires_at)
            assert taken is False
            assert uow.bookings.release_claims(shop.tenant_id, second.id) == 1
            assert uow.bookings.claim_seat(first, capacity=1, now=NOW, expires_at=None) is True
            uow.commit()
        assert [(seat.date, seat.expires_at) for seat in _seats(uow_factory, shop)] == [(DAY, None)]

    def test_a_lowered_capacity_counts_every_live_seat(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """Three seats, seats 1 and 2 held, seat 0 freed, the capacity cut to two: two live
        seats fill it, so no seat can be claimed (seat 0 is free but taking it would make
        three); once one more seat is freed, seat 0 can be."""
        held = [_hold(uow_factory, shop.booking(), capacity=3) for _ in range(3)]
        first, second, _ = held
        assert first is not None
        assert second is not None
        with uow_factory() as uow:
            assert uow.bookings.release_claims(shop.tenant_id, first.id) == 1
            other = shop.booking()
            taken = uow.bookings.claim_seat(other, capacity=2, now=NOW, expires_at=other.expires_at)
            assert taken is False
            assert uow.bookings.release_claims(shop.tenant_id, second.id) == 1
            assert uow.bookings.claim_seat(first, capacity=2, now=NOW, expires_at=None) is True
            uow.commit()
        assert len(_seats(uow_factory, shop)) == 2

    def test_outbox_get_and_for_booking(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """outbox.get finds an event by id (tenant-scoped); for_booking lists a booking's
        events by sequence, delivered or not."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        events = [
            OutboxEvent(uuid.uuid4(), shop.tenant_id, held.id, sequence, "booking.held", {}, NOW)
            for sequence in (2, 1)
        ]
        with uow_factory() as uow:
            for event in events:
                uow.outbox.add(event)
            uow.commit()
        with uow_factory(read_only=True) as uow:
            found = uow.outbox.get(shop.tenant_id, events[0].id)
            assert found is not None
            assert (found.id, found.sequence) == (events[0].id, 2)
            assert uow.outbox.get(uuid.uuid4(), events[0].id) is None
            assert uow.outbox.get(shop.tenant_id, uuid.uuid4()) is None
            listed = uow.outbox.for_booking(shop.tenant_id, held.id)
            assert [e.sequence for e in listed] == [1, 2]
            assert uow.outbox.for_booking(uuid.uuid4(), held.id) == []

    def test_idempotency_release(self, uow_factory: UnitOfWorkFactory, shop: Shop) -> None:
        """release() forgets a key only while it still names that booking."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        record = IdempotencyRecord(shop.tenant_id, "k-1", "fp", None, NOW, NOW + HOLD)
        with uow_factory() as uow:
            assert uow.idempotency.claim(record, now=NOW) is None
            uow.idempotency.attach(shop.tenant_id, "k-1", held.id)
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.release(shop.tenant_id, "k-1", uuid.uuid4()) is False
            assert uow.idempotency.release(uuid.uuid4(), "k-1", held.id) is False
            assert uow.idempotency.release(shop.tenant_id, "k-1", held.id) is True
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.claim(record, now=NOW) is None  # the key is free again
            uow.commit()

    def test_a_noted_refund_outcome_bumps_the_version(
        self, uow_factory: UnitOfWorkFactory, shop: Shop
    ) -> None:
        """A refund outcome's change moves only the version (it orders the booking's events);
        each is decided from the version stored before it."""
        held = _hold(uow_factory, shop.booking(), capacity=1)
        assert held is not None
        with uow_factory() as uow:
            booking = held
            for _ in range(2):
                noted = lifecycle.note_refund_outcome(
                    booking, refund_id=uuid.uuid4(), amount=1, succeeded=False,
                    failure_reason="declined", now=NOW,
                )  # fmt: skip
                assert uow.bookings.save(noted) == 0
                booking = noted.after
            assert booking.version == 3
            uow.commit()
        with uow_factory(read_only=True) as uow:
            assert uow.bookings.get(shop.tenant_id, held.id) == replace(held, version=3)
