"""The HTTP edge: what a host web app needs around booking_core, framework-neutral.

    booking_core.web.problems       errors -> RFC 9457 problem details (status and body)
    booking_core.web.security       response headers, CSP and its reports, security.txt
    booking_core.web.signing        the one HMAC-SHA256 webhook signing scheme
    booking_core.web.notifications  signed webhooks a host app sends to its own customers

These sit outside the domain/ports/services/adapters layers: they depend only on
``booking_core.errors`` and ``booking_core.ports``, and any layer above may use them. Input
cleaning (``booking_core.sanitize``) stays separate because the services use it on every write.
Import the submodules; this package re-exports nothing so that importing one does not load the
others.
"""
