"""What the application factory attaches to the Flask app, and accessors for handlers."""

from __future__ import annotations

from flask import Flask, current_app

from app.settings import Settings
from app.store import Store

_STORE = "marketsim.store"
_SETTINGS = "marketsim.settings"


def init_app(app: Flask, settings: Settings, store_: Store) -> None:
    app.extensions[_SETTINGS] = settings
    app.extensions[_STORE] = store_


def store() -> Store:
    return current_app.extensions[_STORE]


def settings() -> Settings:
    return current_app.extensions[_SETTINGS]
