"""grade bridge: a school's published table from levels to a term grade, and its changes

Revision ID: 8ae8b3bd6dc7
Revises: a3f9d27c5e18
Create Date: 2026-12-01 12:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8ae8b3bd6dc7'
down_revision = 'a3f9d27c5e18'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grade_bridges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('table', sa.JSON(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_grade_bridges_changed_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_grade_bridges_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_bridges')),
    sa.UniqueConstraint('school_id', name=op.f('uq_grade_bridges_school_id'))
    )
    op.create_table('grade_bridge_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('old', sa.JSON(), nullable=True),
    sa.Column('new', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_grade_bridge_changes_changed_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_grade_bridge_changes_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_bridge_changes'))
    )
    with op.batch_alter_table('grade_bridge_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_bridge_changes_school_id'), ['school_id'], unique=False)


def downgrade():
    with op.batch_alter_table('grade_bridge_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_bridge_changes_school_id'))
    op.drop_table('grade_bridge_changes')
    op.drop_table('grade_bridges')
