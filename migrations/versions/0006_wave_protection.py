"""a closed wave's protected partition, made once at the close

Reports read which cells of a closed wave may be published from this row instead of reading every response
again (reports/protection.py). Waves closed before have none: the first report that needs one makes it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 12:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'wave_protection',
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=200), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_wave_protection_wave_id_wave'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('wave_id', name=op.f('pk_wave_protection')),
    )


def downgrade():
    op.drop_table('wave_protection')
