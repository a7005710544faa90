"""Settings come from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

from datetime import timedelta
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
            "DATABASE_READ_URL": "postgresql://u@replica/db",
            "PORT": "9000",
            "SIM_SEED": "7",
            "SIM_SPEED": "60",
            "DATA_DIR": "/var/sim",
            "ADMIN_TOKEN": "s3cret",
            "PROXY_HOPS": "1",
            "FEED_BUFFER_EVENTS": "20000",
            "LOG_RETENTION": "36h",
            "LOG_MAX_BYTES": "2GB",
            "CHECK_RESPONSES": "1",
        }
    )

    assert settings.check_responses and not Settings.from_env({}).check_responses

    assert (settings.proxy_hops, settings.feed_buffer_events) == (1, 20_000)
    assert (settings.log_retention, settings.log_max_bytes) == (timedelta(hours=36), 2 * 10**9)
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.database_read_url == "postgresql://u@replica/db"
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
        (
            "LOG_RETENTION",
            "fortnight",
            "LOG_RETENTION='fortnight' must be a duration of an hour or more (14d, 36h, P14D) "
            "or off",
        ),
        (
            "LOG_RETENTION",
            "10m",
            "LOG_RETENTION='10m' must be a duration of an hour or more (14d, 36h, P14D) or off",
        ),
        (
            "LOG_MAX_BYTES",
            "lots",
            "LOG_MAX_BYTES='lots' must be a size such as 2GB, 500MB, 1.5GiB or a number of "
            "bytes, or off",
        ),
        ("LOG_MAX_BYTES", "5MB", "LOG_MAX_BYTES='5MB' must be 100MB or more"),
        ("CHECK_RESPONSES", "maybe", "CHECK_RESPONSES='maybe' must be 1 or 0 (true or false)"),
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


def test_the_log_is_kept_a_fortnight_with_no_size_budget_unless_told_otherwise():
    default = Settings.from_env({})
    assert (default.log_retention, default.log_max_bytes) == (timedelta(days=14), None)
    assert not Settings.from_env({"LOG_RETENTION": "off"}).retention.active


@pytest.mark.parametrize(
    ("value", "size"),
    [("500MB", 5 * 10**8), ("1.5GiB", 1_610_612_736), ("2g", 2 * 10**9), ("300000000", 3 * 10**8)],
)
def test_a_size_budget_reads_decimal_and_binary_units(value, size):
    assert Settings.from_env({"LOG_MAX_BYTES": value}).log_max_bytes == size
