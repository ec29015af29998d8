"""exports: large staff CSV exports built by a task into a file

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 14:30:00.000000
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'exports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('filters', sa.JSON(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('created_by', sa.String(length=320), nullable=False),
        sa.Column('rows_estimated', sa.Integer(), nullable=False),
        sa.Column('rows_written', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status in ('queued', 'running', 'ready', 'failed')",
                           name=op.f('ck_exports_status')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exports')),
        sa.UniqueConstraint('token', name=op.f('uq_exports_token')),
    )
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exports_created_by'), ['created_by'], unique=False)


def downgrade():
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exports_created_by'))
    op.drop_table('exports')
