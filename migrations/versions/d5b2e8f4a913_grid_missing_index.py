"""grid missing-work index: a partial index on the live pieces marked missing

Revision ID: d5b2e8f4a913
Revises: a7e3d91c4b52
Create Date: 2026-12-01 16:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5b2e8f4a913'
down_revision = 'a7e3d91c4b52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_missing', ['section_id', 'student_id', 'competency_id'], unique=False,
                              sqlite_where=sa.text("status = 'missing' AND deleted_at IS NULL"),
                              postgresql_where=sa.text("status = 'missing' AND deleted_at IS NULL"))


def downgrade():
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_missing')
