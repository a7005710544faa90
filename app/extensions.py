"""What the application factory attaches to the Flask app, and accessors for handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

from app.domain.catalog import Catalog
from app.services import Simulation
from app.settings import Settings
from app.store import Store

if TYPE_CHECKING:
    from app.ws.hub import Hub

_SETTINGS = "marketsim.settings"
_SIMULATION = "marketsim.simulation"
_FEED = "marketsim.feed"


def init_app(app: Flask, settings: Settings, simulation_: Simulation) -> None:
    app.extensions[_SETTINGS] = settings
    app.extensions[_SIMULATION] = simulation_


def simulation() -> Simulation:
    return current_app.extensions[_SIMULATION]


def store() -> Store:
    return simulation().store


def settings() -> Settings:
    return current_app.extensions[_SETTINGS]


def catalog() -> Catalog:
    return simulation().catalog


def init_feed(app: Flask, hub: Hub) -> None:
    app.extensions[_FEED] = hub


def feed() -> Hub:
    """The WebSocket feed's hub of this process (see app/ws)."""
    return current_app.extensions[_FEED]
