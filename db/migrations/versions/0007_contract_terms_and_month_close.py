"""contract terms with history, month close, month-end debt in snapshots, contracts by start

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-29 22:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_terms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(length=64), nullable=False),
        sa.Column("from_month", sa.Date(), nullable=False),
        sa.Column("monthly_fee", sa.BigInteger(), nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_terms")),
        sa.UniqueConstraint("contract_id", "from_month", name=op.f("uq_contract_terms_contract_id_from_month")),
    )
    op.create_index("ix_contract_terms_manager_id", "contract_terms", ["manager_id"], unique=False)
    op.create_table(
        "month_closes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_month_closes")),
    )
    op.create_index("ix_month_closes_month", "month_closes", ["month"], unique=False)
    with op.batch_alter_table("contracts") as batch_op:
        batch_op.add_column(sa.Column("terms_from", sa.Date(), nullable=True))
        batch_op.create_index("ix_contracts_start", ["start"], unique=False)
    with op.batch_alter_table("kpi_snapshots") as batch_op:
        batch_op.add_column(sa.Column("debt", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("debtors", sa.Integer(), nullable=True))
    backfill_contract_terms()


def backfill_contract_terms() -> None:
    """Every existing contract's terms as they are now, from its start month: the history a later
    change is recorded against (without it, the first change would look like a first sight)."""
    contracts = sa.table(
        "contracts", sa.column("id", sa.String), sa.column("start", sa.Date), sa.column("monthly_fee", sa.BigInteger),
        sa.column("manager_id", sa.String),
    )  # fmt: skip
    terms = sa.table(
        "contract_terms", sa.column("contract_id", sa.String), sa.column("from_month", sa.Date),
        sa.column("monthly_fee", sa.BigInteger), sa.column("manager_id", sa.String),
        sa.column("recorded_at", sa.DateTime),
    )  # fmt: skip
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {"contract_id": cid, "from_month": start.replace(day=1), "monthly_fee": fee, "manager_id": manager,
         "recorded_at": now}
        for cid, start, fee, manager in bind.execute(sa.select(contracts.c.id, contracts.c.start,
                                                               contracts.c.monthly_fee, contracts.c.manager_id))
    ]  # fmt: skip
    for first in range(0, len(rows), 1000):
        bind.execute(terms.insert(), rows[first : first + 1000])


def downgrade() -> None:
    with op.batch_alter_table("kpi_snapshots") as batch_op:
        batch_op.drop_column("debtors")
        batch_op.drop_column("debt")
    with op.batch_alter_table("contracts") as batch_op:
        batch_op.drop_index("ix_contracts_start")
        batch_op.drop_column("terms_from")
    op.drop_index("ix_month_closes_month", table_name="month_closes")
    op.drop_table("month_closes")
    op.drop_index("ix_contract_terms_manager_id", table_name="contract_terms")
    op.drop_table("contract_terms")
