"""Liveness, readiness and the JSON error shape."""

from __future__ import annotations

from app.settings import Settings
from app.store import Store
from app.store.migrations import upgrade
from app.web import create_app


def test_healthz_says_the_process_is_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ready_when_the_schema_is_at_head(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json["status"] == "ready"
    assert response.json["revision"] == response.json["head"]


def _readyz(url: str):
    store = Store.connect(url)
    try:
        settings = Settings(database_url=url, check_responses=True)
        return create_app(settings, store=store).test_client().get("/readyz")
    finally:
        store.close()


def test_readyz_is_503_before_migrations_and_200_after(empty_database):
    before = _readyz(empty_database)
    upgrade(empty_database)
    after = _readyz(empty_database)

    assert before.status_code == 503
    assert before.json["status"] == "not_ready"
    assert "migrations not at head" in before.json["reason"]
    assert after.status_code == 200


def test_readyz_is_503_with_a_reason_when_the_database_does_not_answer():
    response = _readyz("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2")

    assert response.status_code == 503
    assert response.json["reason"].startswith("database unreachable")


def test_unknown_paths_answer_in_the_json_error_shape(client):
    response = client.get("/api/no-such-thing")

    assert response.status_code == 404
    assert set(response.json["error"]) == {"code", "message", "hint"}
    assert response.json["error"]["code"] == "not_found"


def test_a_wrong_method_answers_405_with_the_allowed_methods(client):
    response = client.post("/healthz")

    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
