"""Settings come from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import DEFAULT_PORT, Settings, SettingsError, project_root


def test_an_empty_environment_gives_working_defaults():
    settings = Settings.from_env({})

    assert settings.database_url is None
    assert settings.port == DEFAULT_PORT
    assert settings.sim_speed is None
    assert settings.data_dir == Path(".marketsim")
    assert settings.admin_token is None
    assert (settings.config_dir / "streams.json").name == "streams.json"


def test_every_documented_variable_is_read():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u@h/db",
            "PORT": "9000",
            "SIM_SEED": "7",
            "SIM_SPEED": "60",
            "DATA_DIR": "/var/sim",
            "ADMIN_TOKEN": "s3cret",
            "PROXY_HOPS": "1",
            "FEED_BUFFER_EVENTS": "20000",
        }
    )

    assert (settings.proxy_hops, settings.feed_buffer_events) == (1, 20_000)
    assert settings.database_url == "postgresql://u@h/db"
    assert (settings.port, settings.sim_seed, settings.sim_speed) == (9000, 7, 60.0)
    assert settings.data_dir == Path("/var/sim")
    assert settings.admin_token == "s3cret"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORT", "eighty", "PORT='eighty' is not a valid int"),
        ("SIM_SPEED", "0", "SIM_SPEED=0.0 must be a number in (0, 100000]"),
        ("SIM_SEED", "1.5", "SIM_SEED='1.5' is not a valid int"),
        ("PROXY_HOPS", "9", "PROXY_HOPS=9 must be 0 (no proxy) to 5"),
        ("FEED_BUFFER_EVENTS", "10", "FEED_BUFFER_EVENTS=10 must be 1000 or more"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_named(name, value, message):
    with pytest.raises(SettingsError) as err:
        Settings.from_env({name: value})

    assert str(err.value) == message


def test_settings_read_the_security_variables():
    settings = Settings.from_env(
        {"ADMIN_TOKEN": "t", "SECRET_KEY": "k", "CONTROL_RATE_LIMIT": "30"}
    )
    assert (settings.admin_token, settings.secret_key, settings.control_rate_limit) == (
        "t", "k", 30
    )  # fmt: skip
    with pytest.raises(SettingsError, match="CONTROL_RATE_LIMIT"):
        Settings.from_env({"CONTROL_RATE_LIMIT": "-1"})


def test_the_project_folder_is_the_checkout_or_else_the_working_directory(tmp_path):
    checkout, site_packages, working = tmp_path / "repo", tmp_path / "site", tmp_path / "app"
    for folder in (checkout, site_packages, working):
        folder.mkdir()
    (checkout / "alembic.ini").write_text("[alembic]\n")

    assert project_root(checkout, working) == checkout
    assert project_root(site_packages, working) == working
