"""ledger_current_month: each contract's position in the ledger's own month kept on ledger_contracts,
so the screens and digests of the current month read one row per contract instead of aggregating its
months (issue 15), each manager's totals of that month on ledger_managers (an admin's /team reads
one row per manager), and an index of the owing contracts (a team's debtors). The ledger state is dropped: the next keep rebuilds every contract, and until then
the figures are computed by the rules.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 02:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_contracts") as batch:
        batch.add_column(sa.Column("base", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("paid", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("debt", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("oldest_unpaid", sa.Date(), nullable=True))
    op.create_index("ix_ledger_contracts_owing", "ledger_contracts", ["manager_id", "client_id"],
                    sqlite_where=sa.text("debt > 0"), postgresql_where=sa.text("debt > 0"))  # fmt: skip
    op.create_table(
        "ledger_managers",
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("debt", sa.BigInteger(), nullable=False),
        sa.Column("debtors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("manager_id", name=op.f("pk_ledger_managers")),
    )
    op.execute("DELETE FROM ledger_state")


def downgrade() -> None:
    op.drop_table("ledger_managers")
    op.drop_index("ix_ledger_contracts_owing", table_name="ledger_contracts")
    with op.batch_alter_table("ledger_contracts") as batch:
        batch.drop_column("oldest_unpaid")
        batch.drop_column("debt")
        batch.drop_column("paid")
        batch.drop_column("base")
    op.execute("DELETE FROM ledger_state")
