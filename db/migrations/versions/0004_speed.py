"""collection cache for team views, imported file digests; indexes for the morning's reads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 03:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_cache",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=True),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("awaiting", sa.BigInteger(), nullable=False),
        sa.Column("debt", sa.BigInteger(), nullable=False),
        sa.Column("debtors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["employees.id"], name=op.f("fk_collection_cache_manager_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_cache")),
        sa.UniqueConstraint("manager_id", "month", "day", name=op.f("uq_collection_cache_manager_id_month_day")),
    )
    op.create_table(
        "imported_files",
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entity", name=op.f("pk_imported_files")),
    )
    with op.batch_alter_table("interactions") as batch_op:
        batch_op.create_index("ix_interactions_planned_at", ["planned_at"], unique=False)
        batch_op.create_index("ix_interactions_done_at", ["done_at"], unique=False)
    with op.batch_alter_table("pbx_calls") as batch_op:
        batch_op.create_index("ix_pbx_calls_started_at", ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pbx_calls") as batch_op:
        batch_op.drop_index("ix_pbx_calls_started_at")
    with op.batch_alter_table("interactions") as batch_op:
        batch_op.drop_index("ix_interactions_done_at")
        batch_op.drop_index("ix_interactions_planned_at")
    op.drop_table("imported_files")
    op.drop_table("collection_cache")
