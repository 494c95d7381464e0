"""The Flask app factory: the BookingApp, the /v1 blueprint, problem errors, security headers.

    flask --app app run            # in this folder: create_app() from the env
    flask --app app seed           # demo tenant + API key

Tests call ``create_app(booking)`` with their own BookingApp (tmp SQLite, a manual clock).
"""

from __future__ import annotations

import atexit
import logging
from typing import Any

import settings as config
from api import RedactFeedTokens, api, redact_feed_tokens
from flask import Flask, Response, json, request
from seed import seed_command
from werkzeug.exceptions import HTTPException

from booking_core import BookingApp, BookingCoreError
from booking_core.web.problems import PROBLEM_JSON, problem_details
from booking_core.web.security import ContentSecurityPolicy, security_headers

logger = logging.getLogger("booking_core.examples.flask")

#: A JSON API renders nothing, so its policy forbids everything; it reports to our endpoint.
API_CSP = ContentSecurityPolicy(
    default_src=("'none'",),
    script_src=("'none'",),
    style_src=("'none'",),
    img_src=("'none'",),
    connect_src=("'none'",),
    font_src=("'none'",),
    form_action=("'none'",),
    report_uri="/v1/csp-report",
    report_to="csp",
)
#: No nonce is needed (no HTML), so the headers are rendered once.
API_HEADERS = security_headers(csp=API_CSP)

#: Webhooks are at most 256 KiB and CSP reports 64 KiB; larger bodies get a 413 problem.
MAX_CONTENT_LENGTH = 1024 * 1024


#: werkzeug's request log names every path, feed URLs (whose token is a credential) included.
REQUEST_LOG_FILTER = RedactFeedTokens()


def problem(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def instance() -> str:
    """The request's path for a problem body or a log line, any feed token taken out."""
    return redact_feed_tokens(request.path)


def booking_error(error: BookingCoreError) -> Response:
    """Every booking_core error, through the library's one table (422/401/403/404/409/…)."""
    status, body = problem_details(error, instance=instance())
    return problem(status, body)


def http_error(error: HTTPException) -> Response:
    """Unknown routes, wrong methods, oversized bodies: problem+json like everything else."""
    status = error.code or 500
    response = problem(
        status,
        {
            "type": "about:blank",
            "title": error.name,
            "status": status,
            "detail": error.description or error.name,
            "instance": instance(),
        },
    )
    # keep e.g. the Allow header of a 405
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def internal_error(error: Exception) -> Response:
    """Anything else: logged, and a 500 problem that says nothing about the internals."""
    logger.exception("unhandled error", extra={"path": instance()}, exc_info=error)
    return problem(
        500,
        {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "the service could not complete the request",
            "instance": instance(),
        },
    )


def add_security_headers(response: Response) -> Response:
    response.headers.update(API_HEADERS)
    return response


def create_app(booking: BookingApp | None = None) -> Flask:
    """A new Flask app serving ``booking`` (or one connected from the environment).

    An app passed in belongs to the caller, who closes it; one built here is closed at exit.
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    if booking is None:
        booking = config.connect(config.Settings.from_env())
        atexit.register(booking.close)
    app.extensions["booking_core"] = booking
    app.register_blueprint(api)
    logging.getLogger("werkzeug").addFilter(REQUEST_LOG_FILTER)  # added once, however many apps
    app.register_error_handler(BookingCoreError, booking_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, internal_error)
    app.after_request(add_security_headers)
    app.cli.add_command(seed_command)
    return app
