"""staff users

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import shop.extensions


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', shop.extensions.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', shop.extensions.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role in ('admin', 'manager', 'viewer')", name=op.f('ck_staff_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_users_email'))
    )


def downgrade():
    op.drop_table('staff_users')
