"""pbx_calls: what the missed-call and duration rules need to tell the legs of one call apart and
group them (uniqueid, linkedid) and to tell a person from an application (lastapp)

Rows imported before this revision were keyed by ``uniqueid`` (or ``uniqueid#sequence``); their
``uniqueid`` is filled from that key here, so the rules group them like new rows. The next import
of the same file replaces each of them by its per-leg row (``db/importer/writer.py`` removes the old
key of every leg it writes), and rows whose file is never imported again stay as they are.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pbx_calls") as batch_op:
        batch_op.add_column(sa.Column("uniqueid", sa.String(length=150), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("linkedid", sa.String(length=150), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("lastapp", sa.String(length=80), nullable=False, server_default=""))
    pbx = sa.table("pbx_calls", sa.column("id", sa.String), sa.column("uniqueid", sa.String))
    bind = op.get_bind()
    legacy = [row.id for row in bind.execute(sa.select(pbx.c.id).where(pbx.c.id.not_like("cdr-%")))]
    if legacy:
        bind.execute(
            sa.update(pbx).where(pbx.c.id == sa.bindparam("old")).values(uniqueid=sa.bindparam("uid")),
            [{"old": key, "uid": key.split("#", 1)[0][:150]} for key in legacy],
        )


def downgrade() -> None:
    with op.batch_alter_table("pbx_calls") as batch_op:
        batch_op.drop_column("lastapp")
        batch_op.drop_column("linkedid")
        batch_op.drop_column("uniqueid")
