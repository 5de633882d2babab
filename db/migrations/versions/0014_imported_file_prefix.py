"""imported_files: the length, head length and reading shape of an entity's last CSV file, so that
a file that only grew by appending is read from where the last one ended

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: a file imported before this revision is read whole once more, then remembered
    with op.batch_alter_table("imported_files") as batch:
        batch.add_column(sa.Column("size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("head_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("shape", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imported_files") as batch:
        batch.drop_column("shape")
        batch.drop_column("head_size")
        batch.drop_column("size")
