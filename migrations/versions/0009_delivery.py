"""How each stream event was delivered, when a fault of delivery acted on it (`delivery`):
late or out of order (`delaySeconds`), a duplicate (`of`: its original's position), or stamped
by a skewed clock (`skewSeconds`). Null for every other row, and for every row recorded
before (the log is not rewritten). The ground truth lists the faulted rows by the partial
index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event_log", sa.Column("delivery", JSONB))
    op.create_index(
        "event_log_delivery",
        "event_log",
        ["epoch", "occurred_at"],
        postgresql_where=sa.text("delivery IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("event_log_delivery", "event_log")
    op.drop_column("event_log", "delivery")
