"""discipline findings per digest day

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 03:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=160), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("client", sa.String(length=300), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("escalate", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["manager_id"], ["employees.id"], name=op.f("fk_findings_manager_id_employees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint(
            "manager_id", "day", "rule", "subject_id", name=op.f("uq_findings_manager_id_day_rule_subject_id")
        ),
    )
    with op.batch_alter_table("findings") as batch_op:
        batch_op.create_index("ix_findings_day_manager", ["day", "manager_id"], unique=False)
    op.create_table(
        "finding_runs",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_finding_runs")),
    )


def downgrade() -> None:
    op.drop_table("finding_runs")
    with op.batch_alter_table("findings") as batch_op:
        batch_op.drop_index("ix_findings_day_manager")
    op.drop_table("findings")
