"""outbox rows may carry a document (the month-end table): its file name and bytes

Revision ID: 0009
Revises: 0004
Create Date: 2026-11-29 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("document_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("document", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("document")
        batch_op.drop_column("document_name")
