"""Hostile input for every public method of every service, on every backend.

How it works:

- ``_surface`` finds the services of a ``BookingApp`` and their public methods with ``inspect``;
  each parameter, each field of a value-object parameter and each field a ``**changes`` stands
  for is a *target*. Nobody lists methods: a new one is covered when it lands.
- ``_shop`` builds the same small shop on each backend and says what a *valid* value is for
  each parameter name (a new required name fails the suite until it is added there).
- ``_values`` holds the hostile values: a fixed corpus (the CI subset meets every target) and
  Hypothesis strategies (any type, huge ints, NaN/inf, 1 MB strings, NUL, lone surrogates,
  bidi overrides, combining marks, ligatures, the ends of the calendar, naive datetimes, bad
  zone names, the valid value with hostile fragments).
- ``_harness`` calls the target with one hostile value (the others valid) on memory,
  memory + MemoryCache, SQLite, PostgreSQL and PostgreSQL + Redis, and collects three verdicts:
  a raw exception (not a ``BookingCoreError``), a failing call that wrote rows (counted from
  the committed transactions of the unit of work; a drawn sample also compares the rows
  themselves before and after), and backends that disagree on the outcome.

The figures (inputs, typed errors, accepted values, raw exceptions, half-written calls per
backend, root causes) are printed in the "hostile input" section of the terminal summary, on
lines starting with ``hostile-input:``, and written as JSON to ``$BOOKING_CORE_HOSTILE_REPORT``
when set. ``BOOKING_CORE_LONG=1`` sweeps the whole corpus and draws 50x more values.
"""
