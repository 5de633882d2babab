"""names as long as 1C holds them: employee and client names, contract titles, contacts as TEXT

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 21:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (table, column, the old length)
WIDENED = (
    ("employees", "name", 200),
    ("clients", "name", 300),
    ("contracts", "title", 300),
    ("interactions", "client_name", 300),
    ("interactions", "contact", 300),
    ("documents", "client_name", 300),
    ("findings", "client", 300),
    ("findings", "contact", 300),
)


def upgrade() -> None:
    for table, column, length in WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.String(length=length), type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    # values longer than the old limit are cut to it: the old schema cannot hold them
    for table, column, length in WIDENED:
        op.execute(
            sa.text(f"UPDATE {table} SET {column} = substr({column}, 1, {length}) WHERE length({column}) > {length}")
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length), existing_nullable=False)
