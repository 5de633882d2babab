"""import_row_digests: a digest of each imported row as read, so a re-import skips unchanged rows

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_row_digests",
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("entity", "id", name=op.f("pk_import_row_digests")),
    )


def downgrade() -> None:
    op.drop_table("import_row_digests")
