"""The FastAPI app: lifespan wiring, security headers and problem-details errors.

    uvicorn main:app --reload      # in this folder; docs at /docs

:func:`create_app` builds a fresh app; tests pass their own BookingApp (tmp SQLite, a manual
clock). Without one, the lifespan connects from the environment (see ``settings.py``) on startup
and closes the pools on shutdown.
"""

from __future__ import annotations

import http
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import settings as config
from api import RedactFeedTokens, redact_feed_tokens, router
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from booking_core import BookingApp, BookingCoreError
from booking_core.web.problems import PROBLEM_JSON, problem_details
from booking_core.web.security import ContentSecurityPolicy, security_headers

logger = logging.getLogger("booking_core.examples.fastapi")

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
#: Swagger UI (/docs) loads its bundle from jsDelivr and starts it with an inline script.
DOCS_CSP = ContentSecurityPolicy(
    script_src=("'self'", "https://cdn.jsdelivr.net", "'unsafe-inline'"),
    style_src=("'self'", "https://cdn.jsdelivr.net", "'unsafe-inline'"),
    img_src=("'self'", "data:", "https://fastapi.tiangolo.com"),
    report_uri="/v1/csp-report",
    report_to="csp",
)
API_HEADERS = security_headers(csp=API_CSP)
DOCS_HEADERS = security_headers(csp=DOCS_CSP)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")

VALIDATION_TYPE = "urn:booking-core:problem:validation"


#: uvicorn's access log names every path, feed URLs (whose token is a credential) included.
ACCESS_LOG_FILTER = RedactFeedTokens()


def problem(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def instance(request: Request) -> str:
    """The request's path for a problem body or a log line, any feed token taken out."""
    return redact_feed_tokens(request.url.path)


# -- error handlers ------------------------------------------------------------------------------


def booking_error(request: Request, exc: Exception) -> JSONResponse:
    """Every booking_core error, through the library's one table (422/401/403/404/409/…)."""
    assert isinstance(exc, BookingCoreError)
    status, body = problem_details(exc, instance=instance(request))
    return problem(status, body)


def _location(loc: Sequence[int | str]) -> str:
    # ("body", "customer", "email") -> "customer.email"; ("path", "date") -> "date"
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "path", "query", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Bad JSON, a wrong field, a bad path or query parameter: the same 422 problem shape."""
    assert isinstance(exc, RequestValidationError)
    # only loc/msg/type: "input" and "ctx" can hold bytes or exceptions (not JSON, and echoing
    # the input back is no help to the caller)
    errors = [
        {"field": _location(e["loc"]), "message": e["msg"], "type": e["type"]} for e in exc.errors()
    ]
    return validation_problem(request, errors)


def validation_problem(request: Request, errors: list[dict[str, str]]) -> JSONResponse:
    """The one 422 problem shape of the framework's own checks, naming the first field."""
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return problem(
        422,
        {
            "type": VALIDATION_TYPE,
            "title": "Invalid input",
            "status": 422,
            "detail": f"{first['field']}: {first['message']}",
            "instance": instance(request),
            "field": first["field"],
            "errors": errors,
        },
    )


def http_error(request: Request, exc: Exception) -> Response:
    """Unknown routes, wrong methods: problem+json too, so clients parse one error shape."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's "error parsing the body" (JSON that is not UTF-8, or nested too deeply):
        # bad JSON like any other, so the same 422 as a JSON syntax error
        error = {"field": "body", "message": "cannot be read as JSON", "type": "json_invalid"}
        return validation_problem(request, [error])
    if exc.status_code in {204, 304}:  # statuses without a body
        return Response(status_code=exc.status_code, headers=exc.headers)
    title = http.HTTPStatus(exc.status_code).phrase
    body = {
        "type": "about:blank",
        "title": title,
        "status": exc.status_code,
        "detail": exc.detail if isinstance(exc.detail, str) else title,
        "instance": instance(request),
    }
    response = problem(exc.status_code, body)
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = allowed_methods(request)
    return response


#: The methods a 405's Allow header can name.
HTTP_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method the request's path is served with: Starlette's 405 names only the first
    route that matched it, and ``/v1/feeds`` is two routes (GET and POST)."""

    def served(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] is Match.FULL for route in request.app.routes)

    return ", ".join(method for method in HTTP_METHODS if served(method))


def internal_error(request: Request) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "the service could not complete the request",
        "instance": instance(request),
    }
    return problem(500, body)


# -- the app -------------------------------------------------------------------------------------


def create_app(booking: BookingApp | None = None) -> FastAPI:
    """A new FastAPI app serving ``booking`` (or one connected from the environment).

    An app passed in belongs to the caller, who closes it; one built here is closed on shutdown.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if booking is not None:
            app.state.booking = booking
            yield
            return
        with config.connect(config.Settings.from_env()) as owned:
            app.state.booking = owned
            yield

    app = FastAPI(
        title="booking_core example API",
        version="1.0.0",
        summary="Packages, availability, time slots, checkout and cancellation for one tenant "
        "per API key.",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.include_router(router)
    logging.getLogger("uvicorn.access").addFilter(
        ACCESS_LOG_FILTER
    )  # added once, however many apps
    app.add_exception_handler(BookingCoreError, booking_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.middleware("http")
    async def secure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Security headers on every response, the 500s included (never an HTML traceback)."""
        try:
            response = await call_next(request)
        except Exception:
            logger.exception("unhandled error", extra={"path": instance(request)})
            response = internal_error(request)
        docs = request.url.path in DOCS_PATHS
        response.headers.update(DOCS_HEADERS if docs else API_HEADERS)
        return response

    return app


#: For ``uvicorn main:app``.
app = create_app()
