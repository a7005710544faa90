"""Each stream event's expectation: the value expected given the calendar and every cause in
force (`expected`), and the value's flag against it (`expected_flag`): what nothing known
explains. Rows recorded before have neither (the log is not rewritten). The state's recent
anomalies read the critical ones (with those a recorded cause moved, flagged critical for their
slot: the index of 0004).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event_log", sa.Column("expected", sa.Float(53)))
    op.add_column("event_log", sa.Column("expected_flag", sa.Text))
    op.create_check_constraint(
        "event_log_expected_flag",
        "event_log",
        "expected_flag IS NULL OR expected_flag IN ('normal', 'warning', 'critical')",
    )
    op.create_index(
        "ix_event_log_unexplained",
        "event_log",
        ["epoch", "position"],
        postgresql_where=sa.text("expected_flag = 'critical'"),
    )


def downgrade() -> None:
    op.drop_index("ix_event_log_unexplained", table_name="event_log")
    op.drop_constraint("event_log_expected_flag", "event_log")
    op.drop_column("event_log", "expected_flag")
    op.drop_column("event_log", "expected")
