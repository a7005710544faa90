"""With ADMIN_TOKEN set, changes and the admin pages need it; reads and the feed stay open.
Without it, everything is open for local demos. Control requests are rate limited and
bodies bounded, and a refused request records nothing."""

from __future__ import annotations

import pytest

TOKEN = "s3cret-token"
ACTIVATE = ("/api/simulation/scenario", {"scenarioId": "payment-outage"})


@pytest.fixture
def guarded_client(seeded_store, seeded_database):
    from app.settings import Settings
    from app.web import create_app

    settings = Settings(database_url=seeded_database, admin_token=TOKEN)
    return create_app(settings, store=seeded_store).test_client()


def _logged(store) -> list[str]:
    return [e.type for e in store.log.read_after(0, kinds=["scenario", "external", "control"])]


def _sign_in(client, token: str = TOKEN, next_path: str = "/admin"):
    return client.post("/login", data={"token": token, "next": next_path})


def test_without_a_token_changes_and_pages_are_open(seeded_client):
    assert seeded_client.post(ACTIVATE[0], json=ACTIVATE[1]).status_code == 201
    assert seeded_client.get("/admin").status_code == 200


def test_a_change_without_the_token_is_a_401_and_records_nothing(guarded_client, seeded_store):
    response = guarded_client.post(ACTIVATE[0], json=ACTIVATE[1])

    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Bearer" in response.json["error"]["hint"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _logged(seeded_store) == []


def test_a_wrong_bearer_token_is_refused_and_the_right_one_is_accepted(guarded_client):
    wrong = guarded_client.post(
        ACTIVATE[0], json=ACTIVATE[1], headers={"Authorization": "Bearer nope"}
    )
    right = guarded_client.post(
        ACTIVATE[0], json=ACTIVATE[1], headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert wrong.status_code == 401
    assert right.status_code == 201


def test_reads_stay_open_with_a_token_set(guarded_client):
    assert guarded_client.get("/api/simulation/state").status_code == 200
    assert guarded_client.get("/api/streams").status_code == 200
    assert guarded_client.get("/api/openapi.json").status_code == 200


def test_the_admin_pages_send_a_stranger_to_sign_in(guarded_client):
    for page in ("/admin", "/inspect"):
        response = guarded_client.get(page)
        assert response.status_code == 302
        assert response.headers["Location"].startswith(f"/login?next={page}")
    assert guarded_client.get("/login").status_code == 200


def test_a_wrong_token_at_sign_in_is_refused_on_the_page(guarded_client):
    response = _sign_in(guarded_client, token="nope")

    assert response.status_code == 401
    assert "not the admin token" in response.get_data(as_text=True)
    assert guarded_client.get("/admin").status_code == 302


def test_signing_in_opens_the_pages_with_a_strict_httponly_cookie(guarded_client):
    response = _sign_in(guarded_client)

    assert response.status_code == 302 and response.headers["Location"] == "/admin"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert guarded_client.get("/admin").status_code == 200


def test_a_cookie_session_needs_the_csrf_token_for_changes(guarded_client, seeded_store):
    _sign_in(guarded_client)
    with guarded_client.session_transaction() as session:
        csrf = session["csrf"]

    forged = guarded_client.post(ACTIVATE[0], json=ACTIVATE[1])
    assert forged.status_code == 403
    assert forged.json["error"]["code"] == "csrf_failed"
    assert _logged(seeded_store) == []

    wrong = guarded_client.post(ACTIVATE[0], json=ACTIVATE[1], headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    ok = guarded_client.post(ACTIVATE[0], json=ACTIVATE[1], headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201


def test_sign_in_never_redirects_off_the_site(guarded_client):
    for target in ("https://elsewhere.example/", "//elsewhere.example/", "javascript:x"):
        response = _sign_in(guarded_client, next_path=target)
        assert response.headers["Location"] == "/admin"


def test_signing_out_ends_the_session(guarded_client):
    _sign_in(guarded_client)
    with guarded_client.session_transaction() as session:
        csrf = session["csrf"]

    guarded_client.post("/logout", data={"csrf_token": csrf})

    assert guarded_client.get("/admin").status_code == 302


def test_a_copy_of_the_cookie_is_signed_out_with_it(guarded_client):
    """Signing out ends the session on the server: a cookie saved before still opens nothing."""
    _sign_in(guarded_client)
    with guarded_client.session_transaction() as session:
        saved = dict(session)
    guarded_client.post("/logout", data={"csrf_token": saved["csrf"]})

    with guarded_client.session_transaction() as session:
        session.update(saved)
    page = guarded_client.get("/admin")
    change = guarded_client.post(
        ACTIVATE[0], json=ACTIVATE[1], headers={"X-CSRF-Token": saved["csrf"]}
    )

    assert page.status_code == 302
    assert change.status_code == 401


def test_the_cookie_is_secure_behind_a_trusted_https_proxy(seeded_store, seeded_database):
    from app.settings import Settings
    from app.web import create_app

    settings = Settings(database_url=seeded_database, admin_token=TOKEN, proxy_hops=1)
    client = create_app(settings, store=seeded_store).test_client()
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}

    behind = client.post("/login", data={"token": TOKEN}, headers=https)
    direct = client.post("/login", data={"token": TOKEN})

    assert "Secure" in behind.headers["Set-Cookie"]
    assert "Secure" not in direct.headers["Set-Cookie"]


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(guarded_client):
    response = guarded_client.post(
        "/login", data={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"}
    )

    assert "Secure" not in response.headers["Set-Cookie"]


def test_refused_requests_do_not_spend_the_operators_allowance(seeded_store, seeded_database):
    from app.settings import Settings
    from app.web import create_app

    settings = Settings(database_url=seeded_database, admin_token=TOKEN, control_rate_limit=3)
    client = create_app(settings, store=seeded_store).test_client()
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    refused = [client.post("/api/simulation/clock", json={"speed": 2}) for _ in range(5)]
    allowed = [
        client.post("/api/simulation/clock", json={"speed": 2}, headers=bearer) for _ in range(3)
    ]

    assert [r.status_code for r in refused] == [401, 401, 401, 429, 429]
    assert [r.status_code for r in allowed] == [200, 200, 200]


def test_the_limit_counts_each_client_behind_a_proxy_apart(seeded_store, seeded_database):
    from app.settings import Settings
    from app.web import create_app

    settings = Settings(database_url=seeded_database, control_rate_limit=2, proxy_hops=1)
    client = create_app(settings, store=seeded_store).test_client()

    def clock_from(address: str) -> int:
        headers = {"X-Forwarded-For": address}
        return client.post("/api/simulation/clock", json={"speed": 2}, headers=headers).status_code

    first = [clock_from("203.0.113.7") for _ in range(3)]
    second = [clock_from("198.51.100.9") for _ in range(2)]

    assert first == [200, 200, 429]
    assert second == [200, 200]


def test_control_requests_past_the_limit_get_a_429_with_retry_after(seeded_store, seeded_database):
    from app.settings import Settings
    from app.web import create_app

    settings = Settings(database_url=seeded_database, control_rate_limit=2)
    client = create_app(settings, store=seeded_store).test_client()
    statuses = [
        client.post("/api/simulation/clock", json={"speed": 2}).status_code for _ in range(3)
    ]

    assert statuses == [200, 200, 429]
    refused = client.post("/api/simulation/clock", json={"speed": 2})
    assert refused.json["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert all(client.get("/api/simulation/clock").status_code == 200 for _ in range(5))


def test_a_body_over_the_limit_is_a_413_in_the_error_shape(seeded_client, seeded_store):
    body = {"template": "aws-outage", "description": "x" * 100_000}

    response = seeded_client.post("/api/events", json=body)

    assert response.status_code == 413
    assert set(response.json["error"]) == {"code", "message", "hint"}
    assert _logged(seeded_store) == []


def test_json_nested_too_deep_is_invalid_json_and_records_nothing(seeded_client, seeded_store):
    response = seeded_client.post(
        "/api/events", data="[" * 30_000 + "]" * 30_000, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"
    assert _logged(seeded_store) == []


def test_an_event_marked_actual_impact_by_a_number_is_refused(seeded_client, seeded_store):
    response = seeded_client.post("/api/events", json={"template": "aws-outage", "actualImpact": 1})

    assert response.status_code == 400
    assert "field 'actualImpact'" in response.json["error"]["message"]
    assert _logged(seeded_store) == []
