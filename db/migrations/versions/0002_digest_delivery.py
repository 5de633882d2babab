"""digest delivery: personal digest time and pause, outbox leases, daily figures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 03:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("employees") as batch_op:
        batch_op.add_column(sa.Column("digest_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("paused_until", sa.Date(), nullable=True))
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=32), type_=sa.String(length=80))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))
    op.create_table(
        "kpi_daily",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("percent", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.ForeignKeyConstraint(["manager_id"], ["employees.id"], name=op.f("fk_kpi_daily_manager_id_employees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_daily")),
        sa.UniqueConstraint("manager_id", "day", name=op.f("uq_kpi_daily_manager_id_day")),
    )


def downgrade() -> None:
    op.drop_table("kpi_daily")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("claimed_by")
        batch_op.alter_column("kind", existing_type=sa.String(length=80), type_=sa.String(length=32))
    with op.batch_alter_table("employees") as batch_op:
        batch_op.drop_column("paused_until")
        batch_op.drop_column("digest_time")
