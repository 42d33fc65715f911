"""`monitor web`: the team's inbox, review workflow, dashboards and JSON API (ASGI, FastAPI)."""
