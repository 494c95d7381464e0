"""A guided tour of booking_core on the embedded default: a SQLite file, no server needed.

Run it with ``python -m booking_core.demo``. It builds two tenants with a catalog, shows a month of
availability with the reason each closed date is closed, races 20 threads for one date (exactly one
wins), confirms the winner, cancels another booking to free its date, and shows that one tenant can
never see another tenant's bookings. Then payments, with the deterministic fake provider: checkouts
confirmed by signed webhooks (a redelivered webhook has no effect), paid bookings cancelled with
the refund and commission the tenant's policy gives, and the outbox drained in order with one
outgoing notification signed. Then time: a London studio's week as a grid of free and taken
hourly starts (from ``availability.slots``), a night crew's hours on the nights London's clocks
change (3 real hours in spring, 5 in autumn), and 12 threads holding 10:00-11:00, 10:30-11:30
and 10:59-12:00 of one studio at once (exactly one wins). Then calendars (with the calendar
extra; skipped without it): a hold as the ``.ics`` attachment of a confirmation email, and a
weekly meeting from an external calendar (an ICS document with an RRULE and an EXDATE, read by
``IcsCalendar``) taking its starts out of a slot search and refusing a hold.

Every claim the output makes is also checked; the exit status is 0 only when all checks pass.
One module per section (``_catalog``, ``_availability``, ``_race``, ``_isolation``,
``_payments``, ``_outbox``, ``_scheduling``, ``_calendars``); ``_tour`` holds what they share
and ``_runner`` runs them.

Args (command line):
    --db PATH   keep the SQLite database at PATH (it must not exist yet); by default a fresh file
                in a temporary directory is used and removed at the end, so reruns are clean.
    --quiet     print only the final verdict.
"""

from booking_core.demo._format import format_money, format_table
from booking_core.demo._runner import main

__all__ = ["format_money", "format_table", "main"]
