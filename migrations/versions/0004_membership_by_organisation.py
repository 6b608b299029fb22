"""index memberships by organisation

The membership key leads with the cluster. A submission reads its organisation's clusters, the member pages
read an organisation's clusters, and the invited counts join invitations to memberships by organisation: each
read the whole membership table without this index (2.7 ms of a submission at 10,000 organisations, growing
with the table).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 16:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index('ix_membership_organisation_id', ['organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_organisation_id')
