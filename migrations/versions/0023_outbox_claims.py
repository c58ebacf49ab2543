"""outbox: who holds a row's claim (several processes: a claim lasts while its holder lives)

``claimed_by`` names the process sending the row (host, pid and a nonce, as ``job_runs``);
while it is set, ``due_at`` is the end of that process's lease, which it renews while the send
is in flight. Another process takes the row over only once the lease has passed. Empty for rows
no process holds (queued, waiting for a retry, sent or failed).

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
