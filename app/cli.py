"""`marketsim`: the one command-line entry point, with a subcommand per job."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from app.settings import Settings, SettingsError

log = logging.getLogger("marketsim")


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The database URL to use: `DATABASE_URL`, or an embedded Postgres started for the
    duration of the block (its data kept in `DATA_DIR`)."""
    if settings.database_url:
        yield settings.database_url
        return
    from app.store.embedded import EmbeddedPostgres

    print(f"marketsim: starting embedded Postgres in {settings.data_dir.resolve()}", flush=True)
    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        yield embedded.url
    finally:
        embedded.stop()
        print("marketsim: embedded Postgres stopped", flush=True)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app.store.migrations import head_revision, upgrade

    with database(settings) as url:
        upgrade(url)
    print(f"marketsim: database at migration {head_revision()}")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from werkzeug.serving import run_simple

    from app import create_app
    from app.store.migrations import upgrade

    port = args.port if args.port is not None else settings.port
    with database(settings) as url:
        upgrade(url)
        app = create_app(settings.with_database(url))
        print(f"marketsim: serving on http://{args.host}:{port}", flush=True)
        run_simple(args.host, port, app, threaded=True, use_reloader=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marketsim", description="The marketplace stream simulator."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="serve the API, admin and feed (embedded Postgres when DATABASE_URL is unset)"
    )
    run.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=None, help="port (default: PORT or 8000)")
    run.set_defaults(handler=cmd_run)

    migrate = commands.add_parser("migrate", help="bring the database schema to the latest")
    migrate.set_defaults(handler=cmd_migrate)
    return parser


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit so that `finally` blocks (the embedded Postgres) run."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("pgserver", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"marketsim: {exc}", file=sys.stderr)
        return 2
    _stop_on_sigterm()
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
