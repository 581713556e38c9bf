"""jobs on a queue: every kind of long job in import_jobs, with the claim of the worker running it

Revision ID: 5c1e0b7d9a42
Revises: b7d41c9e2a05
Create Date: 2026-12-01 09:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5c1e0b7d9a42'
down_revision = 'b7d41c9e2a05'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('case', 'standards_csv', 'oneroster')"
NEW_KINDS = "kind IN ('case', 'standards_csv', 'oneroster', 'recompute', 'export', 'backup')"


def upgrade():
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('worker', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.drop_constraint(op.f('ck_import_jobs_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_import_jobs_kind'), NEW_KINDS)
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.alter_column('attempts', server_default=None)


def downgrade():
    op.execute("DELETE FROM import_jobs WHERE kind IN ('recompute', 'export', 'backup')")
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_import_jobs_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_import_jobs_kind'), OLD_KINDS)
        batch_op.drop_column('started_at')
        batch_op.drop_column('worker')
        batch_op.drop_column('attempts')
