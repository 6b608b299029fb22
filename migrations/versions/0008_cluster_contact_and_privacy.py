"""who is asking: a cluster's contact address for respondents and its privacy notice

The questionnaire and the invitation e-mails name the inviting cluster organisation, its contact address and
its privacy notice (the platform's own, /privacy, where a cluster has none).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 13:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cluster', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('privacy_url', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('cluster', schema=None) as batch_op:
        batch_op.drop_column('privacy_url')
        batch_op.drop_column('contact_email')
