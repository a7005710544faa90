"""An index for the live generator: control and other non-stream events by position (the
generator and the state projection poll them for clock changes, scenarios and resets).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_event_log_non_stream_position",
        "event_log",
        ["position"],
        postgresql_where=sa.text("kind <> 'stream'"),
    )


def downgrade() -> None:
    op.drop_index("ix_event_log_non_stream_position", table_name="event_log")
