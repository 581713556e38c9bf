"""usernames: accounts without e-mail sign in with a username

Revision ID: b7d41c9e2a05
Revises: f0c8fd13a266
Create Date: 2026-12-01 09:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41c9e2a05'
down_revision = 'f0c8fd13a266'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username', sa.String(length=254), nullable=True))
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_users_username'), ['username'])
        batch_op.create_check_constraint(batch_op.f('ck_users_sign_in'), 'email IS NOT NULL OR username IS NOT NULL')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_sign_in'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_users_username'), type_='unique')
        batch_op.alter_column('email', existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_column('username')
