"""The hub's first schema: parcels, images, units, cases, users and the audit chain.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('time_utc', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prev_hash', name='uq_audit_prev')
    )
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('time_utc', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('parcel_id', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_case_events_ref', 'case_events', ['reference', 'id'], unique=False)
    op.create_table('cases',
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('decision', sa.String(length=32), nullable=False),
    sa.Column('opened_utc', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('reference')
    )
    op.create_table('images',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('received_utc', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('parcel_images',
    sa.Column('parcel_id', sa.String(length=128), nullable=False),
    sa.Column('view', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('redacted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('parcel_id', 'view')
    )
    op.create_index('ix_parcel_images_sha', 'parcel_images', ['sha256'], unique=False)
    op.create_table('parcels',
    sa.Column('change', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=200), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('time_utc', sa.String(length=32), nullable=False),
    sa.Column('received_utc', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('ref_kind', sa.String(length=24), nullable=False),
    sa.Column('ref_value', sa.String(length=128), nullable=False),
    sa.Column('ref_norm', sa.String(length=128), nullable=False),
    sa.Column('ref_valid', sa.Boolean(), nullable=False),
    sa.Column('brand', sa.String(length=64), nullable=False),
    sa.Column('top_label', sa.String(length=64), nullable=False),
    sa.Column('top_score', sa.Float(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('alert', sa.Boolean(), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('change'),
    sa.UniqueConstraint('id')
    )
    op.create_index('ix_parcels_brand', 'parcels', ['brand', 'change'], unique=False)
    op.create_index('ix_parcels_outcome', 'parcels', ['outcome', 'change'], unique=False)
    op.create_index('ix_parcels_queue', 'parcels', ['open', 'outcome', 'change'], unique=False)
    op.create_index('ix_parcels_ref', 'parcels', ['ref_norm'], unique=False)
    op.create_index('ix_parcels_time', 'parcels', ['time_utc'], unique=False)
    op.create_index('ix_parcels_unit_seq', 'parcels', ['unit', 'seq'], unique=False)
    op.create_table('sessions',
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('expires_utc', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_sha256')
    )
    op.create_index('ix_sessions_user', 'sessions', ['username'], unique=False)
    op.create_table('units',
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=200), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('last_seen_utc', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('unit')
    )
    op.create_table('users',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_utc', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('username')
    )


def downgrade() -> None:
    for table in ("audit", "case_events", "cases", "images", "parcel_images", "parcels",
                  "sessions", "units", "users"):
        op.drop_table(table)
