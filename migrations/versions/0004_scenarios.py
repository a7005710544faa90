"""Scenarios and external events: indexes for folding the simulation's state and finding
anomalies, and a view that answers "which events affected stream X?" and "which streams did
event Y affect?" in one query.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STREAM_EVENT_SOURCES = """
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
    op.drop_index("ix_event_log_non_stream_position", table_name="event_log")
    op.create_index(
        "ix_event_log_state_position",
        "event_log",
        ["position"],
        postgresql_where=sa.text("kind <> 'stream' AND type <> 'control.tick'"),
    )
    op.create_index(
        "ix_event_log_ticks",
        "event_log",
        ["epoch", sa.text("(data->>'group')"), "position"],
        postgresql_where=sa.text("type = 'control.tick'"),
    )
    op.create_index(
        "ix_event_log_critical",
        "event_log",
        ["epoch", "position"],
        postgresql_where=sa.text("flag = 'critical'"),
    )
    op.execute(STREAM_EVENT_SOURCES)


def downgrade() -> None:
    op.execute("DROP VIEW stream_event_sources")
    op.drop_index("ix_event_log_critical", table_name="event_log")
    op.drop_index("ix_event_log_ticks", table_name="event_log")
    op.drop_index("ix_event_log_state_position", table_name="event_log")
    op.create_index(
        "ix_event_log_non_stream_position",
        "event_log",
        ["position"],
        postgresql_where=sa.text("kind <> 'stream'"),
    )
