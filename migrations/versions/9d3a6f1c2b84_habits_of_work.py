"""habits of work: frameworks of kind habits, the habits a section tracks, habit evidence and its revisions

Revision ID: 9d3a6f1c2b84
Revises: c4e1a9b27d10
Create Date: 2026-12-01 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d3a6f1c2b84'
down_revision = 'c4e1a9b27d10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('frameworks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='standards', nullable=False))
        batch_op.add_column(sa.Column('scale_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('habit_method', sa.String(length=20), server_default='mode', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_frameworks_scale_id_proficiency_scales'), 'proficiency_scales',
                                    ['scale_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_frameworks_kind'), "kind IN ('standards', 'habits')")
        batch_op.create_check_constraint(batch_op.f('ck_frameworks_habit_method'),
                                         "habit_method IN ('mode', 'most_recent', 'average')")

    op.create_table('section_habits',
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], name=op.f('fk_section_habits_competency_id_competencies')),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_section_habits_section_id_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('section_id', 'competency_id', name=op.f('pk_section_habits'))
    )
    with op.batch_alter_table('section_habits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_section_habits_competency_id'), ['competency_id'], unique=False)

    op.create_table('habit_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'scored') = (score IS NOT NULL)", name=op.f('ck_habit_evidence_score_iff_scored')),
    sa.CheckConstraint("status IN ('scored', 'missing', 'late', 'excused')", name=op.f('ck_habit_evidence_status')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_habit_evidence_assessment_id_assessments')),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], name=op.f('fk_habit_evidence_competency_id_competencies')),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['users.id'], name=op.f('fk_habit_evidence_deleted_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_habit_evidence_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_habit_evidence_section_id_sections')),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_habit_evidence_student_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_habit_evidence'))
    )
    with op.batch_alter_table('habit_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_habit_evidence_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index('ix_habit_evidence_lookup', ['section_id', 'student_id', 'competency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_habit_evidence_student_id'), ['student_id'], unique=False)
        batch_op.create_index('uq_habit_evidence_live_cell', ['student_id', 'assessment_id', 'competency_id'], unique=True, sqlite_where=sa.text('deleted_at IS NULL AND assessment_id IS NOT NULL'), postgresql_where=sa.text('deleted_at IS NULL AND assessment_id IS NOT NULL'))

    op.create_table('habit_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('habit_evidence_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('old', sa.JSON(), nullable=True),
    sa.Column('new', sa.JSON(), nullable=True),
    sa.CheckConstraint("action IN ('create', 'update', 'delete', 'restore')", name=op.f('ck_habit_revisions_action')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_habit_revisions_changed_by_id_users')),
    sa.ForeignKeyConstraint(['habit_evidence_id'], ['habit_evidence.id'], name=op.f('fk_habit_revisions_habit_evidence_id_habit_evidence')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_habit_revisions'))
    )
    with op.batch_alter_table('habit_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_habit_revisions_habit_evidence_id'), ['habit_evidence_id'], unique=False)


def downgrade():
    with op.batch_alter_table('habit_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_habit_revisions_habit_evidence_id'))
    op.drop_table('habit_revisions')
    with op.batch_alter_table('habit_evidence', schema=None) as batch_op:
        batch_op.drop_index('uq_habit_evidence_live_cell', sqlite_where=sa.text('deleted_at IS NULL AND assessment_id IS NOT NULL'), postgresql_where=sa.text('deleted_at IS NULL AND assessment_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_habit_evidence_student_id'))
        batch_op.drop_index('ix_habit_evidence_lookup')
        batch_op.drop_index(batch_op.f('ix_habit_evidence_assessment_id'))
    op.drop_table('habit_evidence')
    with op.batch_alter_table('section_habits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_section_habits_competency_id'))
    op.drop_table('section_habits')
    with op.batch_alter_table('frameworks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_frameworks_habit_method'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_frameworks_kind'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_frameworks_scale_id_proficiency_scales'), type_='foreignkey')
        batch_op.drop_column('habit_method')
        batch_op.drop_column('scale_id')
        batch_op.drop_column('kind')
