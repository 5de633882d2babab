"""ledger_team_debtors: the clients with debt across the whole ledger counted once, kept on
ledger_state whenever the ledger is written, so an admin's /team over every manager reads one number
instead of counting the owing clients of every contract (issue 15). Empty until the next keep: until
then the count is made as before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 04:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_state") as batch:
        batch.add_column(sa.Column("debtors", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_state") as batch:
        batch.drop_column("debtors")
