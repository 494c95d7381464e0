"""``python -m booking_core.demo``: run the tour and exit with its verdict."""

from booking_core.demo._runner import main

raise SystemExit(main())
