"""The Slack workspace's members as onboarding last knew them: joins Slack gave up on are welcomed

``onboarding_roster`` holds, per community, the ids of the members the platform listed when
Steward was last ready there (Slack's users.list), kept as members leave. On ready, a listed
member in neither it nor ``onboarding_members`` joined while no Steward ran and Slack's
redeliveries had given up: onboarding welcomes them. ``onboarding_config.roster_at``: when the
list was last replaced (None: never, and the first list welcomes nobody).

Revision ID: 0026
Revises: 0025
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "onboarding_roster",
        sa.Column("community_id", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_onboarding_roster_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("community_id", "user_id", name=op.f("pk_onboarding_roster")),
    )
    with op.batch_alter_table("onboarding_config") as batch:
        batch.add_column(
            sa.Column("roster_at", bot.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("onboarding_config") as batch:
        batch.drop_column("roster_at")
    op.drop_table("onboarding_roster")
