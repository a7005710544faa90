"""SQLAlchemy Core descriptions of the tables the migrations create (reads are built on them)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

event_log = sa.Table(
    "event_log",
    metadata,
    sa.Column("position", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("stream", sa.Text),
    sa.Column("occurred_at", sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column("recorded_at", sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column("data", JSONB, nullable=False),
    sa.Column("value", sa.Float(53)),
    sa.Column("normalized", sa.Float(53)),
    sa.Column("flag", sa.Text),
    sa.Column("causation_id", sa.BigInteger),
    sa.Column("correlation_id", sa.BigInteger),
    sa.Column("expected", sa.Float(53)),
    sa.Column("expected_flag", sa.Text),
    sa.Column("delivery", JSONB),
)

EVENT_COLUMNS = tuple(c.name for c in event_log.columns)
HAPPENED = "(delivery IS NULL OR delivery->>'fault' <> 'duplicate')"
"""SQL: the row records something that happened (a duplicate's second delivery does not): the
hourly rollup and the generator's read-back count only these."""

admin_session = sa.Table(
    "admin_session",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("started_at", sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column("ended_at", sa.TIMESTAMP(timezone=True)),
)
