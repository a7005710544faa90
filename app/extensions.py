"""What the application factory attaches to the Flask app, and accessors for handlers."""

from __future__ import annotations

from flask import Flask, current_app

from app.domain.catalog import Catalog
from app.settings import Settings
from app.store import Store

_STORE = "marketsim.store"
_SETTINGS = "marketsim.settings"
_CATALOG = "marketsim.catalog"


def init_app(app: Flask, settings: Settings, store_: Store, catalog_: Catalog) -> None:
    app.extensions[_SETTINGS] = settings
    app.extensions[_STORE] = store_
    app.extensions[_CATALOG] = catalog_


def store() -> Store:
    return current_app.extensions[_STORE]


def settings() -> Settings:
    return current_app.extensions[_SETTINGS]


def catalog() -> Catalog:
    return current_app.extensions[_CATALOG]
