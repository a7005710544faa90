"""The admin console and the data inspector are served by the app itself: pages, their
static modules and stylesheet, every control labelled, nothing fetched from elsewhere."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import app.admin

ADMIN_DIR = Path(app.admin.__file__).parent
STATIC_DIR = ADMIN_DIR / "static"
TEMPLATE_DIR = ADMIN_DIR / "templates"
PAGES = {"/admin": "admin.js", "/inspect": "inspector.js"}
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
# XML namespaces name a vocabulary; nothing is ever fetched from them.
NAMESPACES = ("http://www.w3.org/2000/svg",)
EXTERNAL = re.compile(r"https?://|(?<![:\w])//[\w.-]+\.\w+/")


def _static_files() -> list[Path]:
    return sorted(path for path in STATIC_DIR.iterdir() if path.is_file())


def _external_references(text: str) -> list[str]:
    for namespace in NAMESPACES:
        text = text.replace(namespace, "")
    return EXTERNAL.findall(text)


class _Controls(HTMLParser):
    """Collects the page's form controls and the ids its labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_targets: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "label" and attributes.get("for"):
            self.label_targets.add(attributes["for"])
        if tag in {"input", "select", "textarea"} and attributes.get("type") != "hidden":
            self.controls.append(attributes)


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_served_as_html_with_its_module(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'<script type="module" src="/admin/static/{PAGES[path]}">' in html
    assert '<link rel="stylesheet" href="/admin/static/admin.css">' in html
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html


@pytest.mark.parametrize("path", PAGES)
def test_every_control_on_a_page_has_a_label(client, path):
    parser = _Controls()
    parser.feed(client.get(path).get_data(as_text=True))
    unlabelled = [
        control
        for control in parser.controls
        if control.get("id") not in parser.label_targets and not control.get("aria-label")
    ]
    assert unlabelled == []


@pytest.mark.parametrize("asset", _static_files(), ids=lambda path: path.name)
def test_every_static_file_is_served_with_its_content_type(client, asset):
    response = client.get(f"/admin/static/{asset.name}")
    assert response.status_code == 200
    assert response.mimetype == CONTENT_TYPES[asset.suffix]
    assert response.get_data() == asset.read_bytes()


def test_every_module_import_names_a_served_file():
    imported = {
        name
        for path in STATIC_DIR.glob("*.js")
        for name in re.findall(r'from "\./([\w-]+\.js)"', path.read_text())
    }
    assert imported
    assert imported <= {path.name for path in _static_files()}


def test_the_pages_and_assets_reference_nothing_outside_the_app(client):
    sources = [*TEMPLATE_DIR.rglob("*.html"), *_static_files()]
    found = {path.name: _external_references(path.read_text()) for path in sources}
    found |= {page: _external_references(client.get(page).get_data(as_text=True)) for page in PAGES}
    assert {name: refs for name, refs in found.items() if refs} == {}


def test_an_unknown_static_file_is_a_404(client):
    assert client.get("/admin/static/missing.js").status_code == 404


def test_without_a_token_the_pages_send_no_csrf_token_and_offer_no_sign_out(client):
    page = client.get("/admin").get_data(as_text=True)
    assert '<meta name="csrf-token" content="">' in page
    assert "Sign out" not in page


@pytest.fixture
def guarded_client(store, database_url):
    from app.settings import Settings
    from app.web import create_app

    settings = Settings(database_url=database_url, admin_token="s3cret-token")
    return create_app(settings, store=store).test_client()


def test_with_a_token_a_signed_in_page_carries_its_sessions_csrf_token(guarded_client):
    assert guarded_client.get("/admin").status_code == 302
    guarded_client.post("/login", data={"token": "s3cret-token", "next": "/admin"})
    page = guarded_client.get("/admin").get_data(as_text=True)
    with guarded_client.session_transaction() as session:
        csrf = session["csrf"]
    assert f'<meta name="csrf-token" content="{csrf}">' in page
    assert 'action="/logout"' in page
    assert guarded_client.get("/admin/static/api.js").status_code == 200
