"""units: a counter of funded places on the unit row, so progress is never counted on a page

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 14:00:00.000000

Existing units get the count of their funded places.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('packages_funded', sa.Integer(), server_default='0',
                                      nullable=False))
    op.execute(
        "UPDATE units SET packages_funded = (SELECT count(*) FROM unit_places "
        "WHERE unit_places.unit_id = units.id AND unit_places.status = 'funded')"
    )


def downgrade():
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('packages_funded')
