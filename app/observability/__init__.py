"""Observability: structured logs (`logs`), the request hooks that give every request an id,
an access line and its metrics (`http`), and `/metrics` for Prometheus (`metrics`).

Nothing is imported here: `logs` must stay importable without Flask or the database (see its
docstring), and `app.settings` reads its formats.
"""
