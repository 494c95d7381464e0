"""booking_core.web.signing: the HMAC-SHA256 ``t=…,v1=…`` scheme shared by every webhook."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking_core.errors import ValidationError, WebhookVerificationError
from booking_core.web import signing

SECRET = b"whsec_test"
BODY = b'{"id":"evt_1","type":"payment.succeeded"}'
T = 1_767_225_600  # 2026-01-01T00:00:00Z
NOW = dt.datetime.fromtimestamp(T, dt.UTC)


def _mac(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_sign_is_the_documented_header() -> None:
    """The header is t=<seconds>,v1=<HMAC-SHA256 of "t." + raw body>, computable by anyone."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    assert header == f"t={T},v1={_mac(SECRET, BODY, T)}"


def test_round_trip_returns_the_timestamp() -> None:
    """A freshly signed body verifies and verify returns the signed timestamp."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    assert signing.verify(SECRET, BODY, header, now=NOW) == T


def test_sign_is_deterministic_and_depends_on_every_input() -> None:
    """sign gives the same header for the same secret, body and timestamp, and another header when
    any one of them changes."""
    base = signing.sign(SECRET, BODY, timestamp=T)
    assert signing.sign(SECRET, BODY, timestamp=T) == base
    assert signing.sign(SECRET + b"x", BODY, timestamp=T) != base
    assert signing.sign(SECRET, BODY + b" ", timestamp=T) != base
    assert signing.sign(SECRET, BODY, timestamp=T + 1) != base


@pytest.mark.parametrize(
    "body",
    [
        BODY + b" ",  # whitespace a re-serializer would add or remove
        BODY.replace(b"succeeded", b"failed"),
        b'{"type":"payment.succeeded","id":"evt_1"}',  # same JSON, other key order
        b"",
    ],
)
def test_tampered_body_is_refused(body: bytes) -> None:
    """The MAC covers the exact bytes: even an equivalent JSON document does not verify."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        signing.verify(SECRET, body, header, now=NOW)


def test_tampered_timestamp_is_refused() -> None:
    """Moving t= (to refresh a replay) breaks the MAC, since the timestamp is signed."""
    mac = _mac(SECRET, BODY, T)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        signing.verify(SECRET, BODY, f"t={T + 60},v1={mac}", now=NOW)


def test_wrong_secret_is_refused() -> None:
    """A signature made with another secret fails with 'signature mismatch'."""
    header = signing.sign(b"another secret", BODY, timestamp=T)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        signing.verify(SECRET, BODY, header, now=NOW)


@pytest.mark.parametrize(
    ("offset", "direction"),
    [
        (dt.timedelta(minutes=5, seconds=1), "old"),
        (dt.timedelta(hours=24), "old"),
        (-dt.timedelta(minutes=5, seconds=1), "future"),
    ],
)
def test_timestamp_outside_tolerance_is_a_replay(offset: dt.timedelta, direction: str) -> None:
    """A genuinely signed request presented too late (or too early) is refused."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    with pytest.raises(WebhookVerificationError, match=f"{direction}.*tolerance") as info:
        signing.verify(SECRET, BODY, header, now=NOW + offset)
    assert "300 s" in str(info.value)


@pytest.mark.parametrize(
    "offset", [dt.timedelta(0), dt.timedelta(minutes=5), -dt.timedelta(minutes=5)]
)
def test_timestamp_at_the_tolerance_edges_is_accepted(offset: dt.timedelta) -> None:
    """A signature exactly five minutes old, five minutes ahead, or current verifies and returns its
    timestamp."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    assert signing.verify(SECRET, BODY, header, now=NOW + offset) == T


def test_tolerance_is_configurable() -> None:
    """A ten-minute-old signature verifies with an 11-minute tolerance and is refused with a
    9-minute one."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    later = NOW + dt.timedelta(minutes=10)
    assert signing.verify(SECRET, BODY, header, now=later, tolerance=dt.timedelta(minutes=11)) == T
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        signing.verify(SECRET, BODY, header, now=later, tolerance=dt.timedelta(minutes=9))


def test_now_in_another_timezone_is_the_same_instant() -> None:
    """now in another timezone is compared as the same instant, so verification does not depend on
    its offset."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    tokyo = NOW.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert signing.verify(SECRET, BODY, header, now=tokyo) == T


def test_forgery_with_stale_timestamp_reports_the_signature_not_the_age() -> None:
    """The MAC is checked first: "outside tolerance" is only said of genuinely signed requests."""
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        signing.verify(SECRET, BODY, f"t=1,v1={'0' * 64}", now=NOW)


def test_several_v1_entries_any_may_match() -> None:
    """During a rotation the sender signs with old and new secrets; either entry verifies."""
    old, new = _mac(b"old", BODY, T), _mac(b"new", BODY, T)
    header = f"t={T},v1={old},v1={new}"
    assert signing.verify(b"old", BODY, header, now=NOW) == T
    assert signing.verify(b"new", BODY, header, now=NOW) == T
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        signing.verify(b"other", BODY, header, now=NOW)


def test_several_secrets_any_may_match() -> None:
    """The receiver accepts the old and the new secret until the rotation is over."""
    header = signing.sign(b"new", BODY, timestamp=T)
    assert signing.verify([b"old", b"new"], BODY, header, now=NOW) == T
    assert signing.verify((b"new",), BODY, header, now=NOW) == T
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        signing.verify([b"old", b"older"], BODY, header, now=NOW)


def test_unknown_versions_are_ignored_next_to_v1() -> None:
    """A v0 or future v2 entry does not break verification of the v1 one."""
    header = f"t={T},v0=abc,v2={'f' * 64},v1={_mac(SECRET, BODY, T)}"
    assert signing.verify(SECRET, BODY, header, now=NOW) == T


def test_only_unknown_versions_is_refused_and_says_so() -> None:
    """A header with only v0 and v2 signatures is refused with a message saying there is no v1 and
    listing the versions found."""
    with pytest.raises(WebhookVerificationError, match=r"no v1 signature.*v0, v2"):
        signing.verify(SECRET, BODY, f"t={T},v0=abc,v2={'f' * 64}", now=NOW)


def test_spaces_around_items_and_uppercase_hex_are_tolerated() -> None:
    """Spaces around the header's items and an upper-case hex digest still verify."""
    mac = _mac(SECRET, BODY, T)
    assert signing.verify(SECRET, BODY, f" t={T} , v1={mac.upper()} ", now=NOW) == T


GOOD_MAC = "a" * 64


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing"),
        ("", "empty"),
        ("   ", "empty"),
        ("garbage", "malformed"),
        (f"v1={GOOD_MAC}", "no t="),
        (f"t={T}", "no v1"),
        (f"t={T},", "malformed"),
        (f",t={T},v1={GOOD_MAC}", "malformed"),
        (f"t={T},v1=", "malformed"),
        (f"t={T},={GOOD_MAC}", "malformed"),
        (f"t={T},v1", "malformed"),
        (f"t=,v1={GOOD_MAC}", "malformed"),
        (f"t=abc,v1={GOOD_MAC}", "Unix seconds"),
        (f"t=-{T},v1={GOOD_MAC}", "Unix seconds"),
        (f"t=+{T},v1={GOOD_MAC}", "Unix seconds"),
        (f"t=1_767_225_600,v1={GOOD_MAC}", "Unix seconds"),
        (f"t={T}.5,v1={GOOD_MAC}", "Unix seconds"),
        ("t=١٧٦٧٢٢٥٦٠٠,v1=" + GOOD_MAC, "Unix seconds"),  # Arabic-Indic digits
        (f"t={'9' * 40},v1={GOOD_MAC}", "Unix seconds"),
        (f"t={T},t={T},v1={GOOD_MAC}", "more than one t="),
        (f"t={T},v1={'a' * 63}", "64 hex"),
        (f"t={T},v1={'a' * 65}", "64 hex"),
        (f"t={T},v1={'g' * 64}", "64 hex"),
        (f"t={T};v1={GOOD_MAC}", "Unix seconds"),
        (f"t={T},v1={GOOD_MAC}" + ",x=y" * 2000, "longer than"),
    ],
)
def test_malformed_headers_are_refused_with_a_clear_message(
    header: str | None, message: str
) -> None:
    """Each malformed signature header (missing, empty, no t= or v1=, bad separators, non-decimal or
    out-of-range timestamps, repeated t=, wrong digest length, too long) is refused with a
    message naming the defect."""
    with pytest.raises(WebhookVerificationError, match=message):
        signing.verify(SECRET, BODY, header, now=NOW)


@given(header=st.text(max_size=300))
def test_arbitrary_header_text_only_ever_raises_verification_errors(header: str) -> None:
    """Whatever a client puts in the header, the only possible failure is the documented one."""
    with pytest.raises(WebhookVerificationError) as info:
        signing.verify(SECRET, BODY, header, now=NOW)
    assert str(info.value)


@given(
    prefix=st.lists(
        st.tuples(st.sampled_from(["t", "v1", "v0", "x", ""]), st.text(max_size=70)), max_size=6
    )
)
def test_arbitrary_key_value_headers_only_raise_verification_errors(
    prefix: list[tuple[str, str]],
) -> None:
    """Header-shaped noise (t=, v1= with random values) fails cleanly too."""
    header = ",".join(f"{k}={v}" for k, v in prefix)
    with pytest.raises(WebhookVerificationError):
        signing.verify(SECRET, BODY, header, now=NOW)


@given(body=st.binary(max_size=200), timestamp=st.integers(min_value=0, max_value=253_402_300_799))
def test_round_trip_property(body: bytes, timestamp: int) -> None:
    """For any body and any timestamp up to year 9999, a signature verifies at its own time and
    returns the timestamp."""
    header = signing.sign(SECRET, body, timestamp=timestamp)
    now = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    assert signing.verify(SECRET, body, header, now=now) == timestamp


def test_non_bytes_body_at_verify_is_a_verification_error() -> None:
    """Verifying a decoded (str) body fails with a WebhookVerificationError asking for the raw
    request body."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    with pytest.raises(WebhookVerificationError, match="raw request body"):
        signing.verify(SECRET, BODY.decode(), header, now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("secret", "field"),
    [
        (b"", "secret"),
        ("text", "secret"),
        ([], "secret"),
        ([b"ok", b""], "secret[1]"),
        (None, "secret"),
    ],
)
def test_bad_secrets_are_configuration_errors(secret: object, field: str) -> None:
    """Empty, text, None or an empty list of secrets, or an empty one among several, raise
    ValidationError naming the secret (with its index) instead of failing verification."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    with pytest.raises(ValidationError) as info:
        signing.verify(secret, BODY, header, now=NOW)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(("secret", "field"), [(b"", "secret"), ("s", "secret")])
def test_sign_refuses_bad_secrets(secret: object, field: str) -> None:
    """sign refuses an empty or text secret with ValidationError on 'secret'."""
    with pytest.raises(ValidationError) as info:
        signing.sign(secret, BODY, timestamp=T)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize("timestamp", [-1, True, 1.5, "1"])
def test_sign_refuses_bad_timestamps(timestamp: object) -> None:
    """sign refuses a negative, boolean, float or text timestamp with ValidationError on
    'timestamp'."""
    with pytest.raises(ValidationError) as info:
        signing.sign(SECRET, BODY, timestamp=timestamp)  # type: ignore[arg-type]
    assert info.value.field == "timestamp"


def test_sign_refuses_text_bodies() -> None:
    """Signing str would force a guess at the encoding; the caller signs the bytes it sends."""
    with pytest.raises(ValidationError) as info:
        signing.sign(SECRET, "{}", timestamp=T)  # type: ignore[arg-type]
    assert info.value.field == "body"


def test_naive_now_and_bad_tolerance_are_configuration_errors() -> None:
    """A naive now or a zero tolerance raises ValidationError naming the argument."""
    header = signing.sign(SECRET, BODY, timestamp=T)
    with pytest.raises(ValidationError) as naive:
        signing.verify(SECRET, BODY, header, now=NOW.replace(tzinfo=None))
    assert naive.value.field == "now"
    with pytest.raises(ValidationError) as zero:
        signing.verify(SECRET, BODY, header, now=NOW, tolerance=dt.timedelta(0))
    assert zero.value.field == "tolerance"


def test_header_value_is_case_insensitive_and_refuses_ambiguity() -> None:
    """header_value finds a header in any case and returns None when absent; two spellings of it, a
    non-string value or headers that are not a mapping raise WebhookVerificationError."""
    assert signing.header_value({"fake-signature": "x"}, "Fake-Signature") == "x"
    assert signing.header_value({"FAKE-SIGNATURE": "y"}, "fake-signature") == "y"
    assert signing.header_value({"Other": "z"}, "Fake-Signature") is None
    with pytest.raises(WebhookVerificationError, match="more than one"):
        signing.header_value({"Fake-Signature": "a", "fake-signature": "b"}, "Fake-Signature")
    with pytest.raises(WebhookVerificationError, match="must be a string"):
        signing.header_value({"Fake-Signature": b"x"}, "Fake-Signature")  # type: ignore[dict-item]
    with pytest.raises(WebhookVerificationError, match="mapping"):
        signing.header_value(None, "Fake-Signature")  # type: ignore[arg-type]


# --- HeaderLines: every header line kept, so a repeated one can be refused ----------------------


def test_header_lines_keep_every_line_and_refuse_a_repeated_lookup() -> None:
    """A dict keeps the last of two lines; HeaderLines keeps both and refuses to pick one."""
    lines = [("Fake-Signature", "a"), ("Via", "x"), ("fake-signature", "b"), ("Via", "y")]
    headers = signing.HeaderLines(lines)
    assert headers.items() == lines
    assert list(headers) == ["Fake-Signature", "Via"]
    assert len(headers) == 2
    assert "FAKE-SIGNATURE" in headers
    assert "Other" not in headers
    assert 42 not in headers
    with pytest.raises(WebhookVerificationError, match="more than one Fake-Signature"):
        signing.header_value(headers, "Fake-Signature")
    with pytest.raises(WebhookVerificationError, match="more than one"):
        headers.get("FAKE-signature")
    with pytest.raises(KeyError):
        headers["Other"]
    assert headers.get("Other") is None


def test_header_lines_look_a_single_header_up_case_insensitively() -> None:
    """HeaderLines built from raw (name, value) pairs looks names up in any case, by index, get and
    header_value."""
    headers = signing.HeaderLines([("Content-Type", "application/json"), ("fake-signature", "v")])
    assert headers["Fake-Signature"] == "v"
    assert headers.get("CONTENT-TYPE") == "application/json"
    assert signing.header_value(headers, "Fake-Signature") == "v"


def test_header_value_sees_every_line_of_framework_headers() -> None:
    """werkzeug's and Starlette's Headers list a repeated header once per line: refused."""
    from starlette.datastructures import Headers as StarletteHeaders
    from werkzeug.datastructures import Headers as WerkzeugHeaders

    werkzeug = WerkzeugHeaders([("Fake-Signature", "a"), ("Fake-Signature", "b")])
    starlette = StarletteHeaders(raw=[(b"fake-signature", b"a"), (b"fake-signature", b"b")])
    for headers in (werkzeug, starlette):
        with pytest.raises(WebhookVerificationError, match="more than one"):
            signing.header_value(headers, "Fake-Signature")
    assert signing.header_value(WerkzeugHeaders([("FAKE-SIGNATURE", "a")]), "fake-signature") == "a"
