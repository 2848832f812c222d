"""Number matching on the QR hand-off: the number the desktop shows and the three the phone
offers (issue 12).

Hand-offs still live when this runs were made without a number: they are replaced, so the
desktop's next look issues a fresh QR code with one (a hand-off lives 5 minutes at most).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 19:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handoff") as batch:
        batch.add_column(sa.Column("match_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("match_choices", sa.String(length=8), nullable=True))
    op.execute("UPDATE handoff SET status = 'replaced' WHERE status IN ('waiting', 'opened')")


def downgrade() -> None:
    with op.batch_alter_table("handoff") as batch:
        batch.drop_column("match_choices")
        batch.drop_column("match_number")
