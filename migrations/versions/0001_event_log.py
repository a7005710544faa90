"""The event log: one append-only table, ordered positions, NOTIFY on append.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE_CHANGE = """
CREATE FUNCTION marketsim_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'append a new event instead; a reset appends control.reset';
END
$$
"""

# Appends take this lock before they insert, so positions become visible in commit order:
# a reader that has seen every row up to N and asks for position > N can never miss a row
# that commits later (the identity-gap race). Writers queue; readers are not blocked
# (EXCLUSIVE mode conflicts with writes, not with ACCESS SHARE reads).
RESERVE = """
CREATE FUNCTION event_log_reserve(n integer)
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
    PERFORM pg_notify('event_log', last::text);
    RETURN QUERY SELECT last - n + 1, last, coalesce(epoch_now, 1);
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "event_log",
        sa.Column("position", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("stream", sa.Text),
        sa.Column("occurred_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column(
            "recorded_at",
            sa.TIMESTAMP(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("data", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("value", sa.Float(53)),
        sa.Column("normalized", sa.Float(53)),
        sa.Column("flag", sa.Text),
        sa.Column("causation_id", sa.BigInteger),
        sa.Column("correlation_id", sa.BigInteger),
        sa.CheckConstraint(
            "kind IN ('stream', 'external', 'scenario', 'control')", name="event_log_kind"
        ),
        sa.CheckConstraint(
            "flag IS NULL OR flag IN ('normal', 'warning', 'critical')", name="event_log_flag"
        ),
        sa.CheckConstraint(
            "normalized IS NULL OR normalized BETWEEN 0 AND 100", name="event_log_normalized"
        ),
        sa.CheckConstraint("epoch >= 1", name="event_log_epoch"),
    )
    # Stream events (nearly every row) are read by stream and time; the rare scenario,
    # external and control events by epoch, kind and time. Keeping stream events out of the
    # second index keeps appends fast (each index costs about a fifth of COPY throughput).
    op.create_index(
        "ix_event_log_stream_time",
        "event_log",
        ["stream", "occurred_at"],
        postgresql_where=sa.text("stream IS NOT NULL"),
    )
    op.create_index(
        "ix_event_log_epoch_kind_time",
        "event_log",
        ["epoch", "kind", "occurred_at"],
        postgresql_where=sa.text("kind <> 'stream'"),
    )
    op.create_index(
        "ix_event_log_correlation",
        "event_log",
        ["correlation_id"],
        postgresql_where=sa.text("correlation_id IS NOT NULL"),
    )
    op.execute(REFUSE_CHANGE)
    op.execute(
        "CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON event_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION marketsim_refuse_change()"
    )
    op.execute(RESERVE)


def downgrade() -> None:
    op.execute("DROP FUNCTION event_log_reserve(integer)")
    op.execute("DROP TRIGGER event_log_append_only ON event_log")
    op.drop_table("event_log")
    op.execute("DROP FUNCTION marketsim_refuse_change()")
