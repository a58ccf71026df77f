"""index jobs by submission time (the jobs list and its pages read newest first)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_index("ix_jobs_user_created_at", "jobs", ["user", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_user_created_at", table_name="jobs")
    op.drop_index("ix_jobs_created_at", table_name="jobs")
