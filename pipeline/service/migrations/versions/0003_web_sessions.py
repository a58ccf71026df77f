"""web sessions: the pages' cookie holds a session id that signing out ends, not the API token

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_web_sessions_token_digest", "web_sessions", ["token_digest"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_token_digest", table_name="web_sessions")
    op.drop_table("web_sessions")
