"""An index on handoff.phone_ref_hash: the phone's pages find their hand-off by it.

Without it every phone request (GET/POST /phone/verify, /phone/cancel) read the whole hand-off
table: 1.7 ms per lookup at 20,000 hand-offs and growing (bench/ found it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_handoff_phone_ref_hash"), "handoff", ["phone_ref_hash"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_handoff_phone_ref_hash"), table_name="handoff")
