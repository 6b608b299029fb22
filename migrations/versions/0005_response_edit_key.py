"""the key that lets only the respondent see and change submitted answers

A submission stores the hash of a random key; the browser that submitted keeps the key in a cookie (the API
client gets it in the answer). Opening the link again shows or changes the answers only with that key, so a
manager holding a re-issued link sees and changes nothing. Rows from before have no key: their answers can no
longer be shown or changed through a link.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 06:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edit_key_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('edit_key_hash')
