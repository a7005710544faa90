"""The marketplace stream simulator: a Flask application over a Postgres event log.

Nothing is imported here, so that the domain, the scheduler and the seeds can be imported
without the web: the application factory is `app.web.create_app`.
"""
