"""``storable``: outside text made storable; ``outbox.drain`` isolates each event."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_core.domain.model import OutboxEvent
from booking_core.errors import ValidationError
from booking_core.services._validate import REPLACEMENT, storable

from ._backends import Backend
from ._shop import CUSTOMER, FIRST_DAY, fresh
from ._values import ANY_CHARACTER

NASTY = "smtp said \x00 and \ud800 then \udfff\ud83d\ude00"


def test_nul_and_lone_surrogates_become_the_replacement_character() -> None:
    """storable replaces NUL and lone surrogates with U+FFFD."""
    assert storable("a\x00b", max_length=10) == f"a{REPLACEMENT}b"
    assert storable("a\ud800b\udfff", max_length=10) == f"a{REPLACEMENT}b{REPLACEMENT}"


def test_a_surrogate_pair_split_in_two_code_points_is_joined() -> None:
    """A surrogate pair given as two code points becomes the one character it encodes."""
    assert storable("\ud83d\ude00", max_length=10) == "😀"


def test_long_text_is_cut_with_an_ellipsis() -> None:
    """Text longer than max_length is cut to max_length with a trailing ellipsis; text of exactly
    max_length is kept."""
    assert storable("x" * 10, max_length=5) == "xxxx…"
    assert storable("x" * 5, max_length=5) == "xxxxx"
    assert storable("\x00" * 10, max_length=3) == f"{REPLACEMENT * 2}…"


@pytest.mark.parametrize(
    ("text", "max_length", "field"),
    [(b"x", 5, "text"), (None, 5, "text"), ("x", 0, "max_length"), ("x", True, "max_length")],
)
def test_what_is_not_text_or_a_length_is_refused(text: object, max_length: int, field: str) -> None:
    """Bytes or None as text, and a zero or boolean max_length, are refused with ValidationError
    naming the argument."""
    with pytest.raises(ValidationError) as error:
        storable(text, max_length=max_length)  # type: ignore[arg-type]
    assert error.value.field == field


@settings(max_examples=300, deadline=None)
@given(text=st.text(ANY_CHARACTER, max_size=60), max_length=st.integers(1, 80))
def test_the_result_encodes_has_no_nul_fits_and_is_stable(text: str, max_length: int) -> None:
    """For any text, the result encodes as UTF-8, has no NUL, fits max_length, and is unchanged by a
    second pass."""
    kept = storable(text, max_length=max_length)
    kept.encode("utf-8")  # no lone surrogate left: SQLite and PostgreSQL take UTF-8
    assert "\x00" not in kept
    assert len(kept) <= max_length
    assert storable(kept, max_length=max_length) == kept
    if len(text) <= max_length and kept == text:
        assert "\x00" not in text


def _held_events(backend: Backend, bookings: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    app = backend.app
    tenant = app.tenants.create(
        slug=fresh("drain"), name="Drain", timezone="Europe/Paris", currency="EUR"
    )
    package = app.catalog.create_package(tenant.id, slug="p", name="P", base_price=100)
    ids = [
        app.bookings.hold(
            tenant.id,
            package_id=package.id,
            date=FIRST_DAY + dt.timedelta(days=i),
            customer=CUSTOMER,
        ).id
        for i in range(bookings)
    ]
    return tenant.id, ids


def _stored(backend: Backend, tenant_id: uuid.UUID, event_id: uuid.UUID) -> OutboxEvent:
    with backend.app.uow(read_only=True) as uow:
        event = uow.outbox.get(tenant_id, event_id)
    assert event is not None
    return event


def test_an_error_the_database_cannot_store_does_not_stop_the_batch(backend: Backend) -> None:
    """A handler error with NUL (PostgreSQL) and a lone surrogate (SQLite) used to make drain
    raise with the batch's delivered events still leased."""
    tid, bookings = _held_events(backend, 3)
    bad = bookings[1]
    delivered: list[uuid.UUID] = []

    def handler(event: OutboxEvent) -> None:
        if event.booking_id == bad:
            raise RuntimeError(NASTY)
        delivered.append(event.booking_id)

    assert backend.app.outbox.drain(handler, tenant_id=tid) == 2
    assert sorted(delivered) == sorted([bookings[0], bookings[2]])
    [again] = backend.app.outbox.claim(
        batch_size=10, tenant_id=tid
    )  # released, not leased; others done
    assert again.booking_id == bad
    assert again.attempts == 2
    stored = _stored(backend, tid, again.id)
    assert stored.last_error == storable(f"RuntimeError: {NASTY}", max_length=2000)
    assert stored.last_error is not None
    assert stored.last_error.startswith("RuntimeError: smtp said \ufffd and \ufffd then \ufffd😀")


def test_an_exception_whose_message_cannot_be_read_is_released_too(backend: Backend) -> None:
    """A handler error whose str() raises still releases its event, stored with 'UnprintableError:
    (message could not be read)', and the event is claimed again."""

    class UnprintableError(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no message for you")

    tid, [booking] = _held_events(backend, 1)

    def handler(event: OutboxEvent) -> None:
        raise UnprintableError

    assert backend.app.outbox.drain(handler, tenant_id=tid) == 0
    [again] = backend.app.outbox.claim(batch_size=10, tenant_id=tid)
    assert again.booking_id == booking
    stored = _stored(backend, tid, again.id)
    assert stored.last_error == "UnprintableError: (message could not be read)"


def test_release_keeps_a_storable_error(backend: Backend) -> None:
    """release stores a NUL-laden, overlong error as storable text cut with an ellipsis and frees
    the event's lease."""
    tid, _ = _held_events(backend, 1)
    [event] = backend.app.outbox.claim(batch_size=10, tenant_id=tid)
    backend.app.outbox.release(event, error="x\x00" * 3000)
    stored = _stored(backend, tid, event.id)
    assert stored.last_error == ("x" + REPLACEMENT) * 999 + "x…"
    assert stored.claimed_until is None


def test_events_delivered_before_an_interrupt_are_acknowledged(backend: Backend) -> None:
    """A worker stopped mid-batch (Ctrl-C) leaves no delivered event leased."""
    tid, bookings = _held_events(backend, 3)
    seen: list[uuid.UUID] = []

    def handler(event: OutboxEvent) -> None:
        if len(seen) == 2:
            raise KeyboardInterrupt
        seen.append(event.booking_id)

    with pytest.raises(KeyboardInterrupt):
        backend.app.outbox.drain(handler, tenant_id=tid)
    assert len(seen) == 2
    # the interrupted event stays leased until its lease runs out; the two delivered are done
    assert backend.app.outbox.claim(batch_size=10, tenant_id=tid) == []
    backend.clock.advance(dt.timedelta(seconds=61))
    [again] = backend.app.outbox.claim(batch_size=10, tenant_id=tid)
    assert again.booking_id == (set(bookings) - set(seen)).pop()
