"""record across years: the school's record rule, closed terms and sections, exact-match groups, carried evidence

Revision ID: a7e3d91c4b52
Revises: 9d3a6f1c2b84
Create Date: 2026-12-01 12:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7e3d91c4b52'
down_revision = '8ae8b3bd6dc7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_rule', sa.String(length=20), server_default='latest', nullable=False))
        batch_op.create_check_constraint(op.f('ck_schools_record_rule'), "record_rule IN ('latest', 'highest', 'all_evidence')")
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_sections_closed_by_id_users'), 'users', ['closed_by_id'], ['id'])
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_competencies_match_id'), ['match_id'], unique=False)
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_from_section_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_evidence_carried_from_section_id_sections'), 'sections',
                                    ['carried_from_section_id'], ['id'])
        batch_op.create_index('uq_evidence_carried_once', ['student_id', 'section_id', 'competency_id'], unique=True,
                              sqlite_where=sa.text('deleted_at IS NULL AND carried_from_section_id IS NOT NULL'),
                              postgresql_where=sa.text('deleted_at IS NULL AND carried_from_section_id IS NOT NULL'))
    _group_exact_matches()


def _group_exact_matches():
    """Crosswalks imported before this revision: each exact-match group gets its lowest competency id."""
    bind = op.get_bind()
    pairs = bind.execute(sa.text("SELECT competency_id, target_competency_id FROM crosswalks "
                                 "WHERE kind = 'exactMatchOf' AND target_competency_id IS NOT NULL")).all()
    parent = {}

    def find(node):
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    for node in {n for pair in pairs for n in pair}:
        root = find(node)
        bind.execute(sa.text("UPDATE competencies SET match_id = :root WHERE id = :id"), {"root": root, "id": node})


def downgrade():
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('uq_evidence_carried_once',
                            sqlite_where=sa.text('deleted_at IS NULL AND carried_from_section_id IS NOT NULL'),
                            postgresql_where=sa.text('deleted_at IS NULL AND carried_from_section_id IS NOT NULL'))
        batch_op.drop_constraint(batch_op.f('fk_evidence_carried_from_section_id_sections'), type_='foreignkey')
        batch_op.drop_column('carried_from_section_id')
    with op.batch_alter_table('competencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competencies_match_id'))
        batch_op.drop_column('match_id')
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sections_closed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('closed_by_id')
        batch_op.drop_column('closed_at')
    with op.batch_alter_table('terms', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_schools_record_rule'), type_='check')
        batch_op.drop_column('record_rule')
