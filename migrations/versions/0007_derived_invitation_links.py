"""invitation links made again from a nonce and the app's key, the replaced link remembered; keys for drafts

A link's token is now an HMAC of a random per-invitation nonce under a key derived from
SECRET_KEY, so a reminder re-sends the link the member already has instead of replacing it; the hash of a
replaced link is kept so that it says it was replaced. Invitations from before have no nonce: their links keep
working, and the next link made for them is a new one.

Drafts get the key of the browser that saved them, as submitted answers have: whoever else holds the link (the
manager who sent it) no longer sees them. Drafts from before have none and stay visible through the link.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:55:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_nonce', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('replaced_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitation_replaced_token_hash'), ['replaced_token_hash'], unique=False)
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edit_key_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('edit_key_hash')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_replaced_token_hash'))
        batch_op.drop_column('replaced_token_hash')
        batch_op.drop_column('link_nonce')
