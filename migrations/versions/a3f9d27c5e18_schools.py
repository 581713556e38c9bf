"""schools: several schools in one installation (district defaults, members, terms, frameworks and jobs of a
school, district and school admins). Every existing row goes to the existing school; existing admins become
district admins, so nothing changes for them.

Revision ID: a3f9d27c5e18
Revises: 9d3a6f1c2b84
Create Date: 2026-12-01 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f9d27c5e18'
down_revision = '9d3a6f1c2b84'
branch_labels = None
depends_on = None


def _add_school_column(table):
    """A nullable school_id referencing schools. On SQLite the reference goes in the ADD COLUMN itself: adding
    it afterwards would rebuild the table, which its foreign keys (checked) forbid once it has rows."""
    name = f'fk_{table}_school_id_schools'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} ADD COLUMN school_id INTEGER CONSTRAINT {name} REFERENCES schools (id)')
    else:
        op.add_column(table, sa.Column('school_id', sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, 'schools', ['school_id'], ['id'])


def upgrade():
    op.create_table('districts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('default_scale_id', sa.Integer(), nullable=True),
    sa.Column('default_policy', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['default_scale_id'], ['proficiency_scales.id'],
                            name=op.f('fk_districts_default_scale_id_proficiency_scales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_districts'))
    )
    op.create_table('school_members',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_school_members_school_id_schools'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_school_members_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'school_id', name=op.f('pk_school_members'))
    )
    with op.batch_alter_table('school_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_members_school_id'), ['school_id'], unique=False)
    op.add_column('users', sa.Column('district_admin', sa.Boolean(), nullable=False, server_default=sa.false()))
    _add_school_column('terms')
    op.create_index(op.f('ix_terms_school_id'), 'terms', ['school_id'], unique=False)
    _add_school_column('frameworks')
    op.create_index(op.f('ix_frameworks_school_id'), 'frameworks', ['school_id'], unique=False)
    _add_school_column('import_jobs')
    op.create_index(op.f('ix_import_jobs_school_id'), 'import_jobs', ['school_id'], unique=False)
    _add_school_column('policy_changes')

    # The data: the district takes the existing school's defaults (the school keeps its own, identical, so
    # every level stays as it is); every section, term and user goes to the existing school; admins become
    # district admins. Frameworks stay the district's library, jobs the district's.
    conn = op.get_bind()
    school = conn.execute(sa.text("SELECT id, name, default_scale_id, default_policy FROM schools "
                                  "ORDER BY id LIMIT 1")).first()
    if school is not None:
        districts = sa.table('districts', sa.column('name', sa.String), sa.column('default_scale_id', sa.Integer),
                             sa.column('default_policy', sa.JSON), sa.column('version', sa.Integer))
        policy = school.default_policy
        if isinstance(policy, str):
            import json
            policy = json.loads(policy)
        conn.execute(districts.insert().values(name=school.name, default_scale_id=school.default_scale_id,
                                               default_policy=policy or {}, version=1))
        params = {"school": school.id}
        conn.execute(sa.text("UPDATE sections SET school_id = :school WHERE school_id IS NULL"), params)
        conn.execute(sa.text("UPDATE terms SET school_id = :school"), params)
        conn.execute(sa.text("UPDATE policy_changes SET school_id = :school WHERE section_id IS NULL"), params)
        conn.execute(sa.text("INSERT INTO school_members (user_id, school_id) SELECT id, :school FROM users "
                             "WHERE role <> 'admin'"), params)
    conn.execute(sa.text("UPDATE users SET district_admin = :yes WHERE role = 'admin'").bindparams(
        sa.bindparam("yes", True, sa.Boolean())))
    if conn.dialect.name != 'sqlite':  # (SQLite would rebuild the table: its default stays, unused)
        op.alter_column('users', 'district_admin', server_default=None)


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('policy_changes', schema=None) as batch_op:
        if not sqlite:  # (on SQLite the rebuilt table leaves it out with its column)
            batch_op.drop_constraint(batch_op.f('fk_policy_changes_school_id_schools'), type_='foreignkey')
        batch_op.drop_column('school_id')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        if not sqlite:  # (on SQLite the rebuilt table leaves it out with its column)
            batch_op.drop_constraint(batch_op.f('fk_import_jobs_school_id_schools'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_import_jobs_school_id'))
        batch_op.drop_column('school_id')
    with op.batch_alter_table('frameworks', schema=None) as batch_op:
        if not sqlite:  # (on SQLite the rebuilt table leaves it out with its column)
            batch_op.drop_constraint(batch_op.f('fk_frameworks_school_id_schools'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_frameworks_school_id'))
        batch_op.drop_column('school_id')
    with op.batch_alter_table('terms', schema=None) as batch_op:
        if not sqlite:  # (on SQLite the rebuilt table leaves it out with its column)
            batch_op.drop_constraint(batch_op.f('fk_terms_school_id_schools'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_terms_school_id'))
        batch_op.drop_column('school_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('district_admin')
    with op.batch_alter_table('school_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_members_school_id'))
    op.drop_table('school_members')
    op.drop_table('districts')
