"""how long answering took: when a link first showed the questionnaire, each response's time, each wave's median

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answering_seconds', sa.Integer(), nullable=True))
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answering_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('answering_sample', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('answering_sample')
        batch_op.drop_column('answering_seconds')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('answering_seconds')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_column('opened_at')
