"""The one-statement hold's SQL as sent: compact enough for psycopg's cache, one shape per need."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("psycopg")

from psycopg import _queries

from booking_core.adapters.sqlalchemy import _hold_at_once as h


def test_every_statement_is_short_enough_for_psycopgs_query_cache() -> None:
    """psycopg caches the conversion of a query's placeholders only up to its length limit;
    past it, every hold pays a regex pass over the text (0.1-0.2 ms). Every shape fits."""
    assert h.PSYCOPG_CACHED_QUERY_LENGTH == _queries.MAX_CACHED_STATEMENT_LENGTH
    for shape, (text, names) in h._SENT.items():
        assert len(text) <= _queries.MAX_CACHED_STATEMENT_LENGTH, shape
        assert len(names) <= _queries.MAX_CACHED_STATEMENT_PARAMS, shape


def test_compacting_keeps_the_statement_and_renames_each_name_once() -> None:
    """Comments and layout go, every ``%(name)s`` becomes one short name (the same name in
    every place it is used), and nothing else of the text changes."""
    source = h._STATEMENT.replace(h._WRITES, h._EVENT)
    text, names = h._compacted(source)
    assert "--" not in text
    assert "\n" not in text
    assert "  " not in text
    readable = re.findall(r"%\((\w+)\)s", source)
    assert list(names) == list(dict.fromkeys(readable))  # first-use order, no duplicates
    assert len(set(names.values())) == len(names)
    restored = text
    for name, short in sorted(names.items(), key=lambda item: -len(item[1])):
        restored = restored.replace(f"%({short})s", f"%({name})s")
    without_comments = re.sub(r"--[^\n]*", "", source)
    assert restored == " ".join(without_comments.split())


@pytest.mark.parametrize("timed", [False, True])
def test_a_statement_names_only_the_tables_its_hold_writes(timed: bool) -> None:
    """The add-on lines and the idempotency key are written only by the shapes that have them:
    a statement naming a table opens it and its indexes on every run, rows or not."""
    for lines in (False, True):
        for key in (False, True):
            text, names = h._SENT[(timed, lines, key)]
            assert ("bc_booking_add_ons" in text) is lines
            assert ("bc_idempotency_keys" in text) is key
            assert ("line_ids" in names) is lines
            assert ("request_hash" in names) is key
            assert "bc_outbox" in text
            assert "bc_bookings" in text
            assert ("bc_time_claims" in text) is timed
