"""imported_chunks: a digest of each chunk of consecutive data rows of an entity's last CSV file,
so that a re-import of a rewritten file skips the chunks whose rows did not change

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 07:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imported_chunks",
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("entity", "chunk"),
    )


def downgrade() -> None:
    op.drop_table("imported_chunks")
