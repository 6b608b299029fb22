"""invitations and reminders a cluster manager would send: editable texts, reminder dates, delivery problems

Each cluster may write its own subject and text for a wave's invitation and reminder e-mails (no row: the
default text), and set days on which reminders go out by themselves (`flask reminders send`, run by cron). A
contact's address keeps what went wrong with the last message to it: refused by the mail server, not handed
over, or bounced later (`flask mail bounce`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mail_text',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('invitation', 'reminder', name='mailkind', native_enum=False, length=20), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], name=op.f('fk_mail_text_cluster_id_cluster'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_mail_text_updated_by_id_user_account'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_mail_text_wave_id_wave'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_text')),
        sa.UniqueConstraint('cluster_id', 'wave_id', 'kind', name=op.f('uq_mail_text_cluster_id_wave_id_kind')),
    )
    with op.batch_alter_table('mail_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_text_wave_id'), ['wave_id'], unique=False)

    op.create_table(
        'reminder_date',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('wave_id', sa.Integer(), nullable=False),
        sa.Column('send_on', sa.Date(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], name=op.f('fk_reminder_date_cluster_id_cluster'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_reminder_date_wave_id_wave'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_date')),
        sa.UniqueConstraint('cluster_id', 'wave_id', 'send_on', name=op.f('uq_reminder_date_cluster_id_wave_id_send_on')),
    )
    with op.batch_alter_table('reminder_date', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_date_wave_id'), ['wave_id'], unique=False)

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_problem', sa.Enum('refused', 'failed', 'bounced', name='deliveryproblem', native_enum=False, length=10), nullable=True))
        batch_op.add_column(sa.Column('delivery_problem_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('delivery_error', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_column('delivery_error')
        batch_op.drop_column('delivery_problem_at')
        batch_op.drop_column('delivery_problem')
    with op.batch_alter_table('reminder_date', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_date_wave_id'))
    op.drop_table('reminder_date')
    with op.batch_alter_table('mail_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_text_wave_id'))
    op.drop_table('mail_text')
