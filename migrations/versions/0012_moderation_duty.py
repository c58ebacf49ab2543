"""moderation duty, and automod exemptions

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('moderation_duty',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('community_id', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('since', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_moderation_duty_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_duty')),
    sa.UniqueConstraint('community_id', 'user_id', name='uq_moderation_duty_user')
    )
    with op.batch_alter_table('moderation_automod_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exempt_roles', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('exempt_channels', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('moderation_automod_rules', schema=None) as batch_op:
        batch_op.drop_column('exempt_channels')
        batch_op.drop_column('exempt_roles')
    op.drop_table('moderation_duty')
