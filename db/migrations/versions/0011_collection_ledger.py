"""collection ledger: ledger_months, ledger_contracts, ledger_state (kept at import, read by the
screens and digests), an index on payments.paid_on, and the parameters a finding run was computed
with (so an import can recompute it)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_months",
        sa.Column("contract_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.Column("allocated", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("unpaid", sa.BigInteger(), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "month", name=op.f("pk_ledger_months")),
    )
    op.create_table(
        "ledger_contracts",
        sa.Column("contract_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", name=op.f("pk_ledger_contracts")),
    )
    op.create_index(op.f("ix_ledger_contracts_client_id"), "ledger_contracts", ["client_id"])
    op.create_index(op.f("ix_ledger_contracts_manager_id"), "ledger_contracts", ["manager_id"])
    op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("writes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_state")),
    )
    op.create_index(op.f("ix_payments_paid_on"), "payments", ["paid_on"])
    with op.batch_alter_table("finding_runs") as batch:
        batch.add_column(sa.Column("period_start", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("as_of", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("limits", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("finding_runs") as batch:
        batch.drop_column("limits")
        batch.drop_column("as_of")
        batch.drop_column("period_start")
    op.drop_index(op.f("ix_payments_paid_on"), table_name="payments")
    op.drop_table("ledger_state")
    op.drop_index(op.f("ix_ledger_contracts_manager_id"), table_name="ledger_contracts")
    op.drop_index(op.f("ix_ledger_contracts_client_id"), table_name="ledger_contracts")
    op.drop_table("ledger_contracts")
    op.drop_table("ledger_months")
