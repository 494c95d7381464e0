"""sanitize_email's shortcut (a plain local part at a domain seen before) against email-validator.

The shortcut must give exactly email-validator's verdict and normalized form, and every refusal
must be email-validator's own, message included. The corpus test in test_corpora.py checks the
same on the third-party vectors; here generated addresses go through both ways, each domain
warmed up first so that the shortcut is the way taken whenever it applies.
"""

from __future__ import annotations

import email_validator
from hypothesis import example, given, settings
from hypothesis import strategies as st

from booking_core.errors import ValidationError
from booking_core.sanitize import sanitize_email
from booking_core.sanitize._email import _domain_forms, _normalized

#: Domains email-validator accepts (mixed case, IDNA both ways, long labels) and refuses
#: (special-use names, no dot, bad labels, too long).
DOMAINS = [
    "example.com",
    "Example.COM",
    "mail.example.co.uk",
    "bücher.de",
    "xn--bcher-kva.de",
    "a" * 63 + ".com",
    ("b" * 60 + ".") * 3 + "org",
    "localhost",
    "x.test",
    "example..com",
    "-bad.com",
    "bad-.com",
    "a_b.com",
    "123.456",
    "ex ample.com",
    "",
]
#: Local-part characters: the plain ones, email-validator's other atext, and ones it refuses.
LOCAL_ALPHABET = "abcXYZ019._%+-!#$&'*/=?^`{|}~ \"(),:;<>@[\\]é\u200b"


def _validator(text: str) -> str:
    try:
        return email_validator.validate_email(text, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as error:
        return f"refused: email: {error}"


def _ours(text: str) -> str:
    try:
        return sanitize_email(text)
    except ValidationError as error:
        return f"refused: {error}"


@settings(max_examples=400, deadline=None)
@given(
    local=st.text(alphabet=LOCAL_ALPHABET, max_size=70)
    | st.from_regex(r"[A-Za-z0-9_%+-]{1,40}(\.[A-Za-z0-9_%+-]{1,20}){0,3}", fullmatch=True),
    domain=st.sampled_from(DOMAINS),
)
@example(local="a" * 64, domain="b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com")  # 254
@example(local="a" * 64, domain="b" * 63 + "." + "c" * 63 + "." + "d" * 58 + ".com")  # 255
@example(local="a" * 65, domain="example.com")
@example(local="ann", domain="Example.COM")
@example(local="Postmaster", domain="Example.COM")  # role mailboxes: email-validator folds case
@example(local="INFO", domain="example.com")
@example(local="Support", domain="mail.example.co.uk")
@example(local=".ann", domain="example.com")
@example(local="ann.", domain="example.com")
def test_the_shortcut_agrees_with_email_validator(local: str, domain: str) -> None:
    """Same normalized form, or the same refusal, as email-validator for any local part at
    any domain, the domain having been seen (so the shortcut applies where it can)."""
    _ours(f"warm@{domain}")
    text = f"{local}@{domain}"
    _normalized.cache_clear()  # this address itself must be decided now, not remembered
    assert _ours(text.strip(" ")) == _validator(text.strip(" "))


def test_the_shortcut_is_the_path_taken_for_a_new_address_at_a_known_domain() -> None:
    """After one address at a domain, another plain one there is decided from the remembered
    domain: email-validator is not asked again (its domain cache is hit, not filled)."""
    _normalized.cache_clear()
    _domain_forms.cache_clear()
    assert sanitize_email("first@Shortcut-Example.ORG") == "first@shortcut-example.org"
    misses = _domain_forms.cache_info().misses
    assert sanitize_email("second.one+x@Shortcut-Example.ORG") == (
        "second.one+x@shortcut-example.org"
    )
    info = _domain_forms.cache_info()
    assert (info.misses, info.hits) == (misses, 1)
