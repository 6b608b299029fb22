"""a member registry that learns: the organisation's record follows its profile answers, and says what changed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=4), nullable=True))
    op.create_table(
        'profile_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=20), nullable=False),
        sa.Column('old', sa.String(length=40), nullable=True),
        sa.Column('new', sa.String(length=40), nullable=True),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_profile_change_organisation_id_organisation'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_profile_change_wave_id_wave'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_change')),
    )
    with op.batch_alter_table('profile_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_change_organisation_id'), ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('profile_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profile_change_organisation_id'))
    op.drop_table('profile_change')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('region')
