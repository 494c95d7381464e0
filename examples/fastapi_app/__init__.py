"""booking_core behind FastAPI: see README.md in this folder."""
