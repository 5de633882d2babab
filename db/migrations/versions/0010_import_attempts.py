"""import_attempts: every import attempt by source (watched folder, upload), for /status and the
night's failure notice

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("first_problems", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_attempts")),
    )
    op.create_index("ix_import_attempts_source_started_at", "import_attempts", ["source", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_import_attempts_source_started_at", table_name="import_attempts")
    op.drop_table("import_attempts")
