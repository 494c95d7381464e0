"""booking_core behind Flask: see README.md in this folder."""
