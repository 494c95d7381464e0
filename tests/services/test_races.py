"""No double booking under real concurrency: threads and processes released by a barrier.

The guarantee is the claims table's primary key, so it holds across processes sharing a
database. A naive check-then-insert is shown to fail the same race.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from booking_core.adapters.sqlalchemy import tables as t
from booking_core.bootstrap import BookingApp, connect
from booking_core.domain.model import BookingPolicy, BookingStatus, CustomerDetails
from booking_core.errors import BookingConflictError, InvalidTransitionError
from booking_core.testing import ManualClock

from ._race_worker import race_worker
from .conftest import START, Shop, make_shop

WORKERS = 16
ROUNDS = 3


def race(n: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Run ``attempt(i)`` in ``n`` threads released together; return results or exceptions."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = attempt(i)
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def active_on(app: BookingApp, shop: Shop, date: dt.date) -> int:
    bookings = app.bookings.list_for_dates(shop.tenant.id, date, date)
    return sum(b.status in {BookingStatus.PENDING, BookingStatus.CONFIRMED} for b in bookings)


@pytest.mark.parametrize("capacity", [1, 3])
def test_threads_exactly_capacity_win(app: BookingApp, capacity: int) -> None:
    """16 threads hold one date, repeatedly: exactly `capacity` win, the rest conflict."""
    shop = make_shop(app, policy=BookingPolicy(capacity_per_date=capacity))
    for round_no in range(ROUNDS):
        date = dt.date(2030, 10, 1) + dt.timedelta(days=round_no)
        results = race(
            WORKERS,
            lambda i, date=date, round_no=round_no: app.bookings.hold(  # type: ignore[misc]
                shop.tenant.id,
                package_id=shop.package.id,
                date=date,
                customer=CustomerDetails(f"T{i}", f"t{i}-{round_no}@example.com"),
            ),
        )
        kinds = Counter(type(r).__name__ for r in results)
        assert kinds == {"Booking": capacity, "BookingConflictError": WORKERS - capacity}, kinds
        assert all(r.date == date for r in results if isinstance(r, BookingConflictError))
        assert active_on(app, shop, date) == capacity


def _db_url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("pg_database_url"))
    return str(request.getfixturevalue("sqlite_file_url"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        "sqlite+cache",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("postgres+cache", marks=pytest.mark.postgres),
    ],
)
def test_processes_exactly_capacity_win(backend: str, request: pytest.FixtureRequest) -> None:
    """16 processes, each with its own engine, race for dates of capacity 1 and 3: exactly
    capacity win each round (``+cache``: each worker caches the terms, so its holds take the
    short path: PostgreSQL's one statement, SQLite's short write transaction)."""
    url = _db_url(backend.removesuffix("+cache"), request)
    cache_url = "memory://" if backend.endswith("+cache") else None
    with connect(url, clock=ManualClock(START)) as app:
        shops = {c: make_shop(app, policy=BookingPolicy(capacity_per_date=c)) for c in (1, 3)}
        rounds = [
            (shops[c].tenant.id, shops[c].package.id, dt.date(2030, 11, 1) + dt.timedelta(days=r))
            for c in (1, 3)
            for r in range(ROUNDS)
        ]
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(WORKERS)
        results = ctx.Queue()
        procs = [
            ctx.Process(
                target=race_worker, args=(url, w, rounds, barrier, results, START, cache_url)
            )
            for w in range(WORKERS)
        ]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=120) for _ in range(WORKERS * len(rounds))]
        for proc in procs:
            proc.join(timeout=60)
            assert proc.exitcode == 0
        for index, (tenant_id, _package, date) in enumerate(rounds):
            capacity = 1 if index < ROUNDS else 3
            kinds = Counter(kind for i, kind, _ in outcomes if i == index)
            expected = {"won": capacity, "BookingConflictError": WORKERS - capacity}
            assert kinds == expected, (index, kinds)
            shop = shops[capacity]
            assert shop.tenant.id == tenant_id
            assert active_on(app, shop, date) == capacity


@pytest.mark.postgres
def test_naive_check_then_insert_double_books(request: pytest.FixtureRequest) -> None:
    """The same race against a check-then-insert (count, then insert) books a date many times.

    Every worker checks before any inserts (a barrier between the two steps makes the
    interleaving deterministic), which is what happens by chance under load.
    """
    url = _db_url("postgres", request)
    with connect(url, clock=ManualClock(START)) as app:
        shop = make_shop(app)
        date = dt.date(2030, 12, 24)
        customers = [
            app.bookings.hold(
                shop.tenant.id,
                package_id=shop.package.id,
                date=date + dt.timedelta(days=i + 1),
                customer=CustomerDetails("N", f"n{i}@example.com"),
            )
            for i in range(8)
        ]
        engine = app.uow.engine  # type: ignore[attr-defined]
        between = threading.Barrier(len(customers))

        def naive_hold(i: int) -> bool:
            b = t.bookings.c
            with engine.begin() as conn:
                taken = conn.execute(
                    select(func.count()).where(
                        b.tenant_id == shop.tenant.id,
                        b.event_date == date,
                        b.status.in_(["PENDING", "CONFIRMED", "FULFILLED"]),
                    )
                ).scalar_one()
                between.wait(timeout=30)
                if taken >= 1:
                    return False
                source = customers[i]
                conn.execute(
                    insert(t.bookings).values(
                        tenant_id=shop.tenant.id,
                        id=uuid.uuid4(),
                        package_id=shop.package.id,
                        customer_id=source.customer_id,
                        event_date=date,
                        status="PENDING",
                        package_price=1,
                        total=1,
                        commission=0,
                        currency="EUR",
                        created_at=source.created_at,
                        expires_at=source.expires_at,
                    )
                )
                return True

        wins = race(len(customers), naive_hold)
        assert sum(w is True for w in wins) == len(customers)  # every one "won": 8 bookings
        assert active_on(app, shop, date) == len(customers)


def test_confirm_racing_cancel_has_one_outcome(app: BookingApp) -> None:
    """Confirm and cancel of one hold, 8 threads each: exactly one transition wins."""
    shop = make_shop(app)
    for round_no in range(ROUNDS):
        date = dt.date(2031, 1, 5) + dt.timedelta(days=round_no)
        booking = app.bookings.hold(
            shop.tenant.id,
            package_id=shop.package.id,
            date=date,
            customer=CustomerDetails("R", f"r{round_no}@example.com"),
        )

        def act(i: int, booking_id: uuid.UUID = booking.id) -> Any:
            if i % 2:
                return app.bookings.cancel(shop.tenant.id, booking_id).booking
            return app.bookings.confirm(shop.tenant.id, booking_id, payment_ref=f"pay-{i}")

        results = race(16, act)
        final = app.bookings.get(shop.tenant.id, booking.id)
        errors = [r for r in results if isinstance(r, Exception)]
        assert all(isinstance(e, InvalidTransitionError) for e in errors), errors
        confirms = {
            r.payment_ref for r in results if getattr(r, "status", None) is BookingStatus.CONFIRMED
        }
        assert len(confirms) <= 1  # at most one payment was ever accepted
        if final.status is BookingStatus.CONFIRMED:
            assert {final.payment_ref} == confirms
            assert not app.availability.check(shop.tenant.id, date).available
        else:
            assert final.status is BookingStatus.CANCELED
            assert final.payment_ref in confirms | {None}
            assert app.availability.check(shop.tenant.id, date).available


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_processes_delivering_one_webhook_have_one_effect(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """8 processes receive the same signed payment webhook at once: one confirms, 7 see a
    duplicate, and the outbox holds exactly one booking.confirmed."""
    from booking_core.adapters.payments import FakePaymentProvider
    from booking_core.ports.payments import PaymentEventType

    from ._race_worker import deliver_worker

    url = _db_url(backend, request)
    clock = ManualClock(START)
    provider = FakePaymentProvider(b"shared-secret", clock=clock)
    with connect(url, clock=clock, payments=provider) as app:
        shop = make_shop(app)
        hold = app.bookings.hold(
            shop.tenant.id,
            package_id=shop.package.id,
            date=dt.date(2030, 12, 1),
            customer=CustomerDetails("P", "p@example.com"),
        )
        body, headers = provider.make_webhook(
            PaymentEventType.PAYMENT_SUCCEEDED,
            tenant_id=shop.tenant.id,
            booking_id=hold.id,
            payment_ref="pay_proc",
            amount=hold.total,
            currency="EUR",
        )
        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(8), ctx.Queue()
        procs = [
            ctx.Process(
                target=deliver_worker,
                args=(url, b"shared-secret", body, headers, barrier, results, START),
            )
            for _ in range(8)
        ]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(timeout=60)
        assert Counter((state, dup) for state, dup, _ in outcomes) == {
            ("PROCESSED", False): 1,
            ("PROCESSED", True): 7,
        }, outcomes
        assert app.bookings.get(shop.tenant.id, hold.id).status is BookingStatus.CONFIRMED
        confirmed: list[str] = []
        app.outbox.drain(
            lambda e: confirmed.append(e.type) if e.booking_id == hold.id else None,
            tenant_id=shop.tenant.id,
        )
        assert confirmed.count("booking.confirmed") == 1
