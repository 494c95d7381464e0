"""Example host apps for booking_core (not part of the installed package)."""
