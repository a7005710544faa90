"""The event log partitioned, so that old stream events can be removed by dropping whole
partitions (retention), never by DELETE.

`event_log` is partitioned by kind: `event_log_stream` holds the stream events, itself
partitioned by ranges of positions (`event_log_partitioning.partition_positions` each,
created by `event_log_reserve` as appends reach them and listed in `event_log_partition`);
`event_log_other` holds the scenario, external and control events, which are small and kept
for ever. Every level refuses UPDATE, DELETE and TRUNCATE as the table did. The rows of the
unpartitioned table are copied with their positions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTITION_POSITIONS = 1_000_000
"""Positions per stream-event partition: about 1.7 simulated days at 1x, 380 MB."""

COLUMNS = (
    "position, epoch, kind, type, stream, occurred_at, recorded_at, data, value, normalized, "
    "flag, causation_id, correlation_id, expected, expected_flag"
)

PARTITIONED = """
CREATE TABLE event_log (
    position bigint GENERATED ALWAYS AS IDENTITY,
    epoch integer NOT NULL,
    kind text NOT NULL,
    type text NOT NULL,
    stream text,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    data jsonb NOT NULL DEFAULT '{}'::jsonb,
    value double precision,
    normalized double precision,
    flag text,
    causation_id bigint,
    correlation_id bigint,
    expected double precision,
    expected_flag text,
    CONSTRAINT event_log_pkey PRIMARY KEY (position, kind),
    CONSTRAINT event_log_kind CHECK (kind IN ('stream', 'external', 'scenario', 'control')),
    CONSTRAINT event_log_flag CHECK (flag IS NULL OR flag IN ('normal', 'warning', 'critical')),
    CONSTRAINT event_log_normalized CHECK (normalized IS NULL OR normalized BETWEEN 0 AND 100),
    CONSTRAINT event_log_epoch CHECK (epoch >= 1),
    CONSTRAINT event_log_expected_flag
        CHECK (expected_flag IS NULL OR expected_flag IN ('normal', 'warning', 'critical'))
) PARTITION BY LIST (kind);
CREATE TABLE event_log_stream PARTITION OF event_log FOR VALUES IN ('stream')
    PARTITION BY RANGE (position);
CREATE TABLE event_log_other PARTITION OF event_log
    FOR VALUES IN ('external', 'scenario', 'control');
"""

INDEXES = """
CREATE INDEX ix_event_log_stream_time ON event_log (stream, occurred_at) WHERE stream IS NOT NULL;
CREATE INDEX ix_event_log_epoch_kind_time ON event_log (epoch, kind, occurred_at)
    WHERE kind <> 'stream';
CREATE INDEX ix_event_log_correlation ON event_log (correlation_id)
    WHERE correlation_id IS NOT NULL;
CREATE INDEX ix_event_log_state_position ON event_log (position)
    WHERE kind <> 'stream' AND type <> 'control.tick';
CREATE INDEX ix_event_log_ticks ON event_log (epoch, (data->>'group'), position)
    WHERE type = 'control.tick';
CREATE INDEX ix_event_log_critical ON event_log (epoch, position) WHERE flag = 'critical';
CREATE INDEX ix_event_log_unexplained ON event_log (epoch, position)
    WHERE expected_flag = 'critical';
"""

REFUSE = (
    "CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION marketsim_refuse_change()"
)

BOOKKEEPING = f"""
CREATE TABLE event_log_partitioning (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    partition_positions bigint NOT NULL CHECK (partition_positions >= 1)
);
INSERT INTO event_log_partitioning (partition_positions) VALUES ({PARTITION_POSITIONS});
CREATE TABLE event_log_partition (
    first_position bigint PRIMARY KEY,
    end_position bigint NOT NULL,
    name text NOT NULL UNIQUE
);
"""

# A statement trigger on a partitioned table fires only for statements naming it, so each
# new partition gets its own.
EXTEND = """
CREATE FUNCTION event_log_extend(upto bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    size bigint;
    bound bigint;
    part text;
BEGIN
    SELECT partition_positions INTO size FROM event_log_partitioning;
    SELECT coalesce(max(end_position), 1) INTO bound FROM event_log_partition;
    WHILE bound <= upto LOOP
        part := format('event_log_stream_%s', bound);
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF event_log_stream FOR VALUES FROM (%s) TO (%s)',
            part, bound, bound + size);
        EXECUTE format(
            'CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION marketsim_refuse_change()', part);
        INSERT INTO event_log_partition (first_position, end_position, name)
        VALUES (bound, bound + size, part);
        bound := bound + size;
    END LOOP;
END
$$
"""

# The next partition made before appends need it (the maintenance job and the migration
# call this): creating one takes a lock that holds readers back until the creating
# transaction ends, so appends create one only when they outrun it.
PREPARE = """
CREATE FUNCTION event_log_prepare() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    size bigint;
    head bigint;
BEGIN
    LOCK TABLE event_log IN EXCLUSIVE MODE;
    SELECT partition_positions INTO size FROM event_log_partitioning;
    head := pg_sequence_last_value(pg_get_serial_sequence('event_log', 'position')::regclass);
    PERFORM event_log_extend(coalesce(head, 0) + size);
END
$$
"""

# As in 0001, plus: the positions reserved have a partition to land in.
RESERVE = """
CREATE OR REPLACE FUNCTION event_log_reserve(n integer)
RETURNS TABLE (first_position bigint, last_position bigint, current_epoch integer)
LANGUAGE plpgsql AS $$
DECLARE
    seq text := pg_get_serial_sequence('event_log', 'position');
    last bigint;
    epoch_now integer;
BEGIN
    IF n IS NULL OR n < 1 THEN
        RAISE EXCEPTION 'event_log_reserve: n must be at least 1, got %', n;
    END IF;
    LOCK TABLE event_log IN EXCLUSIVE MODE;
    SELECT e.epoch INTO epoch_now FROM event_log e ORDER BY e.position DESC LIMIT 1;
    last := setval(seq, nextval(seq) + n - 1);
    PERFORM event_log_extend(last);
    PERFORM pg_notify('event_log', last::text);
    RETURN QUERY SELECT last - n + 1, last, coalesce(epoch_now, 1);
END
$$
"""

VIEW = """
CREATE VIEW stream_event_sources AS
SELECT e.epoch,
       e.correlation_id AS source_position,
       source.kind AS source_kind,
       source.type AS source_type,
       coalesce(source.data->>'title', source.data->>'name', source.data->>'scenarioId',
                source.data->>'stream') AS source_title,
       e.stream,
       count(*) AS events,
       min(e.occurred_at) AS first_at,
       max(e.occurred_at) AS last_at
FROM event_log e
JOIN event_log source ON source.position = e.correlation_id
WHERE e.kind = 'stream' AND e.correlation_id IS NOT NULL
GROUP BY e.epoch, e.correlation_id, source.kind, source.type, source_title, e.stream
"""


def upgrade() -> None:
    op.execute("DROP VIEW stream_event_sources")
    op.execute("ALTER TABLE event_log RENAME TO event_log_unpartitioned")
    op.execute("ALTER SEQUENCE event_log_position_seq RENAME TO event_log_unpartitioned_seq")
    op.execute("ALTER TABLE event_log_unpartitioned DROP CONSTRAINT event_log_pkey")
    for index in (
        "ix_event_log_stream_time",
        "ix_event_log_epoch_kind_time",
        "ix_event_log_correlation",
        "ix_event_log_state_position",
        "ix_event_log_ticks",
        "ix_event_log_critical",
        "ix_event_log_unexplained",
    ):
        op.execute(f"DROP INDEX {index}")
    op.execute(PARTITIONED)
    for table in ("event_log", "event_log_stream", "event_log_other"):
        op.execute(REFUSE.format(table=table))
    op.execute(BOOKKEEPING)
    op.execute(EXTEND)
    op.execute("SELECT event_log_extend(coalesce(max(position), 0)) FROM event_log_unpartitioned")
    op.execute(
        f"INSERT INTO event_log ({COLUMNS}) OVERRIDING SYSTEM VALUE "
        f"SELECT {COLUMNS} FROM event_log_unpartitioned ORDER BY position"
    )
    # positions reserved by appends that rolled back are never handed out again either
    op.execute(
        "SELECT setval(pg_get_serial_sequence('event_log', 'position'), last_value, is_called) "
        "FROM event_log_unpartitioned_seq"
    )
    op.execute("DROP TABLE event_log_unpartitioned")
    op.execute(INDEXES)
    op.execute(RESERVE)
    op.execute(PREPARE)
    op.execute("SELECT event_log_prepare()")
    op.execute(VIEW)


def downgrade() -> None:
    raise NotImplementedError(
        "0007 partitions the event log; going back would need every retained row copied into "
        "one table again: restore a backup taken before the upgrade instead"
    )
