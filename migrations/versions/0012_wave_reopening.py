"""a closed wave can be reopened for late answers, kept apart from the answers counted at its close

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reopenings', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reopening', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('reopening')
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('reopenings')
