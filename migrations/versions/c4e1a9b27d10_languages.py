"""languages: a person's language, and school data translated per language

Revision ID: c4e1a9b27d10
Revises: 5c1e0b7d9a42
Create Date: 2026-12-01 10:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e1a9b27d10'
down_revision = '5c1e0b7d9a42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))
    op.create_table('text_translations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_text_translations')),
    sa.UniqueConstraint('table_name', 'row_id', 'field', 'language',
                        name=op.f('uq_text_translations_table_name_row_id_field_language'))
    )
    with op.batch_alter_table('text_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_text_translations_language'), ['language'], unique=False)
        batch_op.create_index(batch_op.f('ix_text_translations_row_id'), ['row_id'], unique=False)


def downgrade():
    with op.batch_alter_table('text_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_text_translations_row_id'))
        batch_op.drop_index(batch_op.f('ix_text_translations_language'))
    op.drop_table('text_translations')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
