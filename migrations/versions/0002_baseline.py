"""The baseline: 30 days of hourly samples, 12-hour buckets, statistics and external events,
seeded once per run and immutable like the log. And `stream_hourly`, the hourly rollup of the
log's stream events that history reads: a projection that follows the log by position
(`projection_position`), so it can always be rebuilt from the log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("baseline_run", "baseline_sample", "baseline_bucket", "baseline_statistics",
          "baseline_event")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "baseline_run",
        sa.Column("id", sa.Integer, sa.Identity(always=True), primary_key=True),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("generator_version", sa.Text, nullable=False),
        sa.Column("start_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("end_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("config_checksum", sa.Text, nullable=False),
        sa.Column("checksums", JSONB, nullable=False),
        sa.Column("metadata", JSONB, nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
    )
    op.create_table(
        "baseline_sample",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("baseline_run.id"), nullable=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("hour", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("value", sa.Float(53), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "stream", "hour"),
    )
    op.create_table(
        "baseline_bucket",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("baseline_run.id"), nullable=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("bucket_start", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("value", sa.Float(53), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "stream", "bucket_start"),
    )
    op.create_table(
        "baseline_statistics",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("baseline_run.id"), nullable=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("statistics", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "stream"),
    )
    op.create_table(
        "baseline_event",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("baseline_run.id"), nullable=False),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("actual_impact", sa.Boolean, nullable=False),
        sa.Column("event", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "id"),
    )
    op.create_index("ix_baseline_event_time", "baseline_event", ["run_id", "occurred_at"])
    op.create_table(
        "stream_hourly",
        sa.Column("epoch", sa.Integer, nullable=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("hour", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.Column("value_sum", sa.Float(53), nullable=False),
        sa.Column("value_count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("epoch", "stream", "hour"),
    )
    op.create_table(
        "projection_position",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO projection_position (name, position) VALUES ('stream_hourly', 0)")
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION marketsim_refuse_change()"
        )


def downgrade() -> None:
    op.drop_table("projection_position")
    op.drop_table("stream_hourly")
    for table in reversed(TABLES):
        op.drop_table(table)
