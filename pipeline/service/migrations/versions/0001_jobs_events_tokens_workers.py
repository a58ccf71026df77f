"""jobs, events, tokens, workers

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user", sa.String(128), nullable=False, index=True),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("args", sa.Text, nullable=False),
        sa.Column("config", sa.Text),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retry_of", sa.String(32)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("resolved", sa.Text),
        sa.Column("plan", sa.Text),
        sa.Column("stages", sa.Text),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("worker_id", sa.String(128)),
        sa.Column("lease_expires", sa.Float),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
        sa.Column("pid_started", sa.Float),
        sa.Column("exit_code", sa.Integer),
        sa.Column("events_offset", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("slurm_job_ids", sa.Text),
        sa.UniqueConstraint("user", "idempotency_key", name="uq_jobs_user_idempotency_key"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(32), nullable=False, index=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("heartbeat_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("workers", "tokens", "events", "jobs"):
        op.drop_table(table)
