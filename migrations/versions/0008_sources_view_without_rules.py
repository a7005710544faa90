"""`stream_event_sources` gives the source event's data instead of a title it chose: which
field names a source (title, name, scenario id, stream) is a rule of the domain
(`app.domain.causes.source_title`), not of a view. It also counts a source's stream events
before joining the source, once per group instead of once per event.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEW = """
CREATE VIEW stream_event_sources AS
SELECT moved.epoch,
       moved.source_position,
       source.kind AS source_kind,
       source.type AS source_type,
       source.data AS source_data,
       moved.stream,
       moved.events,
       moved.first_at,
       moved.last_at
FROM (
    SELECT epoch,
           correlation_id AS source_position,
           stream,
           count(*) AS events,
           min(occurred_at) AS first_at,
           max(occurred_at) AS last_at
    FROM event_log
    WHERE kind = 'stream' AND correlation_id IS NOT NULL
    GROUP BY epoch, correlation_id, stream
) moved
JOIN event_log source ON source.position = moved.source_position
"""

PREVIOUS_VIEW = """
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
    op.execute(VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW stream_event_sources")
    op.execute(PREVIOUS_VIEW)
