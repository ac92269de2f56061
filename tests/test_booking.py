"""Booking deadlines and instruction text of on-demand (TAD) rides (mobility.planning.booking)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from mobility.network.flex import BookingRule
from mobility.planning import booking as bk

TZ = ZoneInfo("Europe/Paris")


def _rule(**kw) -> BookingRule:
    base = dict(key="R", rule_id="R", feed_index=0, booking_type=2, phone_number="+33 3 53 48 00 00")
    base.update(kw)
    return BookingRule(**base)


def test_day_before_deadline_and_french_text():
    rule = _rule(prior_notice_last_day=1, prior_notice_last_time_s=17 * 3600)
    pickup = dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    dl = bk.deadline(rule, pickup, dt.date(2026, 12, 1), TZ)
    assert dl == dt.datetime(2026, 11, 30, 17, 0, tzinfo=TZ)
    text = bk.instructions(rule, dl)
    assert text == "Réserver au 03 53 48 00 00 avant le lundi 30 novembre à 17:00"
    assert "Monday 30 November at 17:00" in bk.instructions(rule, dl, lang="en")
    info = bk.booking_json([rule], dl, None)
    assert info["deadline"] == "2026-11-30T17:00:00+01:00" and info["phone"] and info["rule_id"] == "R"


def test_prior_notice_service_id_counts_business_days_only():
    rule = _rule(prior_notice_last_day=1, prior_notice_last_time_s=17 * 3600, prior_notice_service_id="WK")
    runs = lambda sid, d: d.weekday() < 5  # noqa: E731 - Monday..Friday
    monday = dt.date(2026, 11, 30)
    dl = bk.deadline(rule, dt.datetime(2026, 11, 30, 9, tzinfo=TZ), monday, TZ, runs)
    assert dl == dt.datetime(2026, 11, 27, 17, 0, tzinfo=TZ)  # the Friday before, not Sunday
    # without the service id: the calendar day before (Sunday)
    plain = _rule(prior_notice_last_day=1, prior_notice_last_time_s=17 * 3600)
    assert bk.deadline(plain, dt.datetime(2026, 11, 30, 9, tzinfo=TZ), monday, TZ, runs).day == 29


def test_same_day_notice_moves_the_earliest_pickup_and_type2_closes_the_day():
    j2h = _rule(booking_type=1, prior_notice_duration_min=120, prior_notice_duration_max=1440)
    booked = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TZ)
    assert bk.earliest_pickup(j2h, booked, dt.date(2026, 12, 1), TZ) == dt.datetime(2026, 12, 1, 12, 0, tzinfo=TZ)
    pickup = dt.datetime(2026, 12, 1, 15, 0, tzinfo=TZ)
    assert bk.deadline(j2h, pickup, pickup.date(), TZ) == dt.datetime(2026, 12, 1, 13, 0, tzinfo=TZ)
    assert bk.opening(j2h, pickup, pickup.date(), TZ) == dt.datetime(2026, 11, 30, 15, 0, tzinfo=TZ)
    veille = _rule(prior_notice_last_day=1, prior_notice_last_time_s=17 * 3600)
    late = dt.datetime(2026, 11, 30, 17, 1, tzinfo=TZ)
    assert bk.earliest_pickup(veille, late, dt.date(2026, 12, 1), TZ) is None
    assert bk.earliest_pickup(veille, late - dt.timedelta(minutes=2), dt.date(2026, 12, 1), TZ) is not None
    realtime = _rule(booking_type=0)
    assert bk.deadline(realtime, pickup, pickup.date(), TZ) == pickup


def test_phone_display():
    assert bk.phone_display("+33 3 53 48 00 00") == "03 53 48 00 00"
    assert bk.phone_display("(770) 528-1053") == "(770) 528-1053"


def test_same_day_rule_with_a_start_day_opens_on_that_day():
    """booking_type 1 without prior_notice_duration_max may give prior_notice_start_day/time (GTFS)."""
    rule = _rule(booking_type=1, prior_notice_duration_min=60, prior_notice_start_day=7,
                 prior_notice_start_time_s=8 * 3600)
    pickup = dt.datetime(2026, 12, 10, 9, 0, tzinfo=TZ)
    assert bk.opening(rule, pickup, dt.date(2026, 12, 10), TZ) == dt.datetime(2026, 12, 3, 8, 0, tzinfo=TZ)
    assert bk.deadline(rule, pickup, dt.date(2026, 12, 10), TZ) == dt.datetime(2026, 12, 10, 8, 0, tzinfo=TZ)
    # with a maximum duration, the start day does not apply
    capped = _rule(booking_type=1, prior_notice_duration_min=60, prior_notice_duration_max=24 * 60)
    assert bk.opening(capped, pickup, dt.date(2026, 12, 10), TZ) == dt.datetime(2026, 12, 9, 9, 0, tzinfo=TZ)
