"""URLs that would break out of an HTML attribute are refused, not passed on."""

from __future__ import annotations

import pytest

from booking_core.errors import ValidationError
from booking_core.sanitize import sanitize_url


@pytest.mark.parametrize(
    "url",
    ['"><script>', "a<b", "https://example.com/?q=<x>", 'https://example.com/"x', "/a`b"],
)
def test_unencoded_markup_characters_are_refused(url: str) -> None:
    """URLs with raw <, >, " or ` characters are refused with ValidationError on 'url', relative or
    absolute."""
    with pytest.raises(ValidationError) as caught:
        sanitize_url(url, allow_relative=True)
    assert caught.value.field == "url"


def test_percent_encoded_markup_is_fine() -> None:
    """The same characters percent-encoded are accepted and the URL is returned unchanged."""
    url = "https://example.com/?q=%3Cx%3E&r=%22"
    assert sanitize_url(url) == url
