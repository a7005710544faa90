"""ADMIN_TOKEN: open by default for local demos; with a token set, every mutating request
and the admin pages need it.

A script sends `Authorization: Bearer <token>`. A browser signs in once at `/login`: the app
then keeps a signed session cookie (HttpOnly, SameSite=Strict, Secure when the request came
over https) and a CSRF token that the pages send back in `X-CSRF-Token` on every mutating
request, so another site cannot drive the simulator through an operator's cookie. The cookie
names a session kept in the database (`admin_session`): signing out ends it there, so a copy of
the cookie is signed out too. Reads (GET) stay open, and so does the feed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response as BaseResponse

from app import extensions
from app.api.errors import ApiError
from app.api.openapi import is_read_only
from app.settings import Settings

bp = Blueprint("auth", __name__, template_folder="templates")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAGES = ("/admin", "/inspect")
"""Page paths that need a signed-in session when a token is set (their assets stay open)."""
OPEN_PREFIXES = ("/admin/static/",)
CSRF_HEADER = "X-CSRF-Token"
_TOKEN = "marketsim.admin_token"


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions[_TOKEN] = settings.admin_token
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="marketsim_session",
    )
    app.session_interface = _SessionCookies()
    if settings.admin_token:
        app.secret_key = settings.secret_key or _derived_secret(settings.admin_token)
    app.before_request(_guard)
    app.context_processor(lambda: {"csrf_token": csrf_token, "auth_required": _required()})
    app.register_blueprint(bp)


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure when the request came over https (behind a proxy,
    as its trusted X-Forwarded-Proto says: PROXY_HOPS)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def _derived_secret(token: str) -> bytes:
    """A signing key every worker derives alike from the token, when SECRET_KEY is unset;
    changing the token signs every session out."""
    return hmac.new(token.encode(), b"marketsim session signing key", hashlib.sha256).digest()


def _required() -> bool:
    return bool(current_app.extensions.get(_TOKEN))


def _token() -> str:
    return current_app.extensions[_TOKEN]


def token_matches(candidate: str | None) -> bool:
    """Constant-time comparison with ADMIN_TOKEN."""
    return bool(candidate) and hmac.compare_digest(candidate.encode(), _token().encode())


def csrf_token() -> str:
    """This session's CSRF token ('' when no token is required or nobody signed in)."""
    if not _required() or not _signed_in():
        return ""
    return session.setdefault("csrf", secrets.token_urlsafe(32))


def _signed_in() -> bool:
    """Whether the cookie names a session that has not been signed out (asked once a request).
    A cookie whose session ended is cleared."""
    if "signed_in" not in g:
        session_id = session.get("sid") if session.get("admin") else None
        g.signed_in = bool(session_id) and extensions.store().sessions.is_live(session_id)
        if session.get("admin") and not g.signed_in:
            session.clear()
    return g.signed_in


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _guard() -> BaseResponse | None:
    if not _required() or request.endpoint in ("auth.login", "auth.login_form", "static"):
        return None
    path = request.path
    if path.startswith(OPEN_PREFIXES):
        return None
    reads = is_read_only(current_app.view_functions.get(request.endpoint or ""))
    if request.method in SAFE_METHODS or reads:
        if path.startswith(PAGES) and not _signed_in():
            return redirect(url_for("auth.login_form", next=request.full_path.rstrip("?")))
        return None
    if token_matches(_bearer()):
        return None
    if _signed_in():
        sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token")
        expected = session.get("csrf", "")
        if sent and expected and hmac.compare_digest(sent.encode(), expected.encode()):
            return None
        raise ApiError(
            403,
            "csrf_failed",
            "the CSRF token is missing or does not match this session",
            f"send the page's csrf-token in the {CSRF_HEADER} header, or reload the page",
        )
    raise ApiError(
        401,
        "unauthorized",
        "this simulator requires its admin token for changes",
        "send Authorization: Bearer <ADMIN_TOKEN>, or sign in at /login",
    )


def caller_key() -> str:
    """Who is asking, for the rate limit: the token's holder, a signed-in session, or else the
    client's address (the real one behind trusted proxies). A request refused for its token
    counts against its address, never against the operator's allowance."""
    if _required():
        if token_matches(_bearer()):
            return "token"
        if _signed_in():
            return f"session:{session['sid']}"
    return f"address:{request.remote_addr or 'unknown'}"


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, not //): never an open redirect."""
    if not target:
        return url_for("admin.console")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("admin.console")
    return target


@bp.get("/login")
def login_form() -> str:
    """The sign-in page: one field for the admin token."""
    return render_template("auth/login.html", next=request.args.get("next", ""), error=None)


@bp.post("/login")
def login() -> Response | tuple[str, int]:
    """Check the token; on success keep a signed session and go where the operator was going."""
    if not _required():
        return redirect(_safe_next(request.form.get("next")))
    if not token_matches(request.form.get("token")):
        page = render_template(
            "auth/login.html",
            next=request.form.get("next", ""),
            error="That is not the admin token.",
        )
        return page, 401
    session.clear()
    session_id = secrets.token_urlsafe(24)
    extensions.store().sessions.start(session_id)
    session["admin"] = True
    session["sid"] = session_id
    session["csrf"] = secrets.token_urlsafe(32)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    """End the session, on the server as well as in this browser (a CSRF-checked POST, like
    every change)."""
    if session.get("sid"):
        extensions.store().sessions.end(session["sid"])
    session.clear()
    return redirect(url_for("auth.login_form"))
