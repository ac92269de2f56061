"""Request journal and survey answers.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(32), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("commune_insee", sa.String(5), nullable=True),
        sa.Column("destination_site", sa.String(32), nullable=True),
        sa.Column("destination_category", sa.String(40), nullable=True),
        sa.Column("requested_date", sa.Date, nullable=True),
        sa.Column("requested_hour", sa.SmallInteger, nullable=True),
        sa.Column("arrive_by", sa.Boolean, nullable=True),
        sa.Column("round_trip", sa.Boolean, nullable=True),
        sa.Column("wheelchair", sa.Boolean, nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("served_date", sa.Date, nullable=True),
        sa.Column("modes", sa.String(40), nullable=True),
        sa.Column("travel_min", sa.Integer, nullable=True),
        sa.Column("wait_min", sa.Integer, nullable=True),
        sa.Column("walk_min", sa.Integer, nullable=True),
        sa.Column("walk_m", sa.Integer, nullable=True),
        sa.Column("tad_booking", sa.Boolean, nullable=True),
        sa.Column("lang", sa.String(2), nullable=True),
    )
    op.create_index("ix_requests_created_at", "requests", ["created_at"])
    op.create_index("ix_requests_commune_insee", "requests", ["commune_insee"])
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_ref", sa.String(32), sa.ForeignKey("requests.ref", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("survey_id", sa.String(40), nullable=False),
    )
    op.create_index("ix_survey_responses_created_at", "survey_responses", ["created_at"])
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("response_id", sa.Integer, sa.ForeignKey("survey_responses.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("question", sa.String(40), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
    )
    op.create_index("ix_survey_answers_response_id", "survey_answers", ["response_id"])


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_table("survey_responses")
    op.drop_table("requests")
