"""`marketsim`: the one command-line entry point, with a subcommand per job."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from app.client import ClientError, add_parsers
from app.domain.timerange import from_iso, iso
from app.observability.logs import configure as configure_logging
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


def _parse_end(raw: str | None) -> datetime:
    from seeds.baseline import default_end

    if raw is None:
        return default_end()
    return from_iso(raw)


def _seed(settings: Settings, url: str | None, args: argparse.Namespace) -> int:
    from app.domain.catalog import load_catalog
    from seeds.baseline import export, seed_baseline

    catalog = load_catalog(settings.config_dir)
    store = None
    if url is not None:
        from app.store import Store

        store = Store.connect(url)
    try:
        outcome = seed_baseline(
            store.baselines if store else None,
            catalog,
            settings.config_dir,
            seed=args.seed if args.seed is not None else settings.sim_seed,
            end=_parse_end(args.end),
            if_missing=args.if_missing,
        )
    finally:
        if store is not None:
            store.close()
    if not outcome.created and outcome.baseline is None:
        print(f"marketsim: baseline already seeded (run {outcome.run_id}); nothing to do")
        return 0
    baseline = outcome.baseline
    assert baseline is not None
    where = f"run {outcome.run_id}" if outcome.run_id else "not written to a database"
    print(
        f"marketsim: baseline seed {baseline.seed}, {iso(baseline.start)} to "
        f"{iso(baseline.end)}, {len(baseline.events)} external events ({where}); "
        f"generated in {outcome.generate_seconds:.2f}s, written in {outcome.write_seconds:.2f}s"
    )
    if args.export:
        for path in export(baseline, Path(args.export)):
            print(f"marketsim: wrote {path}")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from app.store.migrations import upgrade

    if args.no_database:
        if not args.export:
            print("marketsim: --no-database needs --export DIR", file=sys.stderr)
            return 2
        return _seed(settings, None, args)
    with database(settings) as url:
        upgrade(url)
        return _seed(settings, url, args)


def _seed_if_missing(settings: Settings, url: str) -> int:
    missing = argparse.Namespace(seed=None, end=None, if_missing=True, export=None)
    return _seed(settings, url, missing)


def cmd_release(args: argparse.Namespace, settings: Settings) -> int:
    """What a deploy runs once before the new processes start: migrate, then seed if needed."""
    from app.store.migrations import upgrade

    with database(settings) as url:
        upgrade(url)
        return _seed_if_missing(settings, url)


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    """The generator on its own (the Procfile's `scheduler`): leader or standby until stopped."""
    import threading

    from app.store.migrations import upgrade
    from jobs.scheduler import Scheduler

    stop = threading.Event()
    with database(settings) as url:
        upgrade(url)
        try:
            Scheduler(settings, url, speed=settings.sim_speed).run(stop)
        except KeyboardInterrupt:
            stop.set()
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from werkzeug.serving import run_simple

    from app import extensions
    from app.store.migrations import upgrade
    from app.web import create_app

    port = args.port if args.port is not None else settings.port
    with database(settings) as url:
        upgrade(url)
        _seed_if_missing(settings, url)
        app = create_app(settings.with_database(url))
        with app.app_context():
            hub = extensions.feed()
        hub.start()
        stop, generator = _start_generator(settings, url)
        print(f"marketsim: serving on http://{args.host}:{port}", flush=True)
        try:
            run_simple(args.host, port, app, threaded=True, use_reloader=False)
        finally:
            stop.set()
            generator.join(timeout=30)
            hub.stop(timeout=2)
    return 0


def _start_generator(settings: Settings, url: str):
    """The scheduler in a thread of this process (`marketsim run` is one process)."""
    import threading

    from jobs.scheduler import Scheduler

    stop = threading.Event()
    scheduler = Scheduler(settings, url, speed=settings.sim_speed)
    thread = threading.Thread(target=scheduler.run, args=(stop,), name="scheduler", daemon=True)
    thread.start()
    return stop, thread


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

    scheduler = commands.add_parser(
        "scheduler", help="run the generator's jobs (one leader; further copies wait as standby)"
    )
    scheduler.set_defaults(handler=cmd_scheduler)

    migrate = commands.add_parser("migrate", help="bring the database schema to the latest")
    migrate.set_defaults(handler=cmd_migrate)

    release = commands.add_parser(
        "release", help="migrate, then seed the baseline if none is (the deploy's release step)"
    )
    release.set_defaults(handler=cmd_release)

    seed = commands.add_parser("seed", help="generate the 30-day baseline and store it")
    seed.add_argument("--seed", type=int, default=None, help="random seed (default: SIM_SEED)")
    seed.add_argument(
        "--end",
        default=None,
        help="where the baseline ends, ISO-8601 on a 00:00/12:00 UTC "
        "boundary (default: the last such boundary before now)",
    )
    seed.add_argument(
        "--if-missing", action="store_true", help="do nothing when a baseline is already seeded"
    )
    seed.add_argument("--export", metavar="DIR", help="also write the three baseline JSON files")
    seed.add_argument(
        "--no-database", action="store_true", help="only export (with --export); no Postgres"
    )
    seed.set_defaults(handler=cmd_seed)

    from app.ws.watch import add_parser as add_watch_parser

    add_parsers(commands)
    add_watch_parser(commands)
    return parser


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit so that `finally` blocks (the embedded Postgres) run."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"marketsim: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format)
    _stop_on_sigterm()
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        return handler(args, settings)
    except ClientError as exc:
        print(f"marketsim: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
