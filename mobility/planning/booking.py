"""Booking deadlines of on-demand (TAD) rides from GTFS-Flex booking rules, and the text telling people how to book.

Deadline of a ride picked up at ``pickup`` on service day ``day`` (times in the feed's time zone):

* ``booking_type`` 0 (real time): up to the pickup itself;
* 1 (same day): ``pickup - prior_notice_duration_min``; bookings open ``prior_notice_duration_max``
  before the pickup when given;
* 2 (up to prior days): ``prior_notice_last_time`` on the ``prior_notice_last_day``-th day before
  ``day``; with ``prior_notice_service_id`` only days on which that service runs count (business days),
  so "the day before, 17:00" for a Monday ride means Friday 17:00 when the service runs Monday-Friday.
  ``prior_notice_start_day`` / ``_start_time`` give the opening the same way.

A ride can be offered when the request's ``booked_at`` is not after the deadline.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable

from mobility.domain.dates import month_name, weekday_name
from mobility.i18n import message
from mobility.network.flex import BookingRule
from mobility.timeaxis import after, service_day_origin

#: how far back business days are searched for a prior_notice_service_id count
_MAX_LOOKBACK_DAYS = 60

def _days_before(day: dt.date, n: int, service_id: str, runs_on: Callable[[str, dt.date], bool] | None) -> dt.date:
    """The n-th day before ``day``: calendar days, or days on which ``service_id`` runs."""
    if not service_id or runs_on is None:
        return day - dt.timedelta(days=n)
    d, count = day, 0
    for _ in range(_MAX_LOOKBACK_DAYS):
        d -= dt.timedelta(days=1)
        if runs_on(service_id, d):
            count += 1
            if count >= n:
                return d
    return day - dt.timedelta(days=n)  # service never runs: fall back to calendar days


def deadline(rule: BookingRule, pickup: dt.datetime, day: dt.date, tz,
             runs_on: Callable[[str, dt.date], bool] | None = None) -> dt.datetime:
    """Last moment to book a ride of service day ``day`` picked up at ``pickup`` (aware datetimes)."""
    if rule.booking_type == 2:
        n = max(0, rule.prior_notice_last_day)
        last = _days_before(day, n, rule.prior_notice_service_id, runs_on) if n else day
        secs = rule.prior_notice_last_time_s if rule.prior_notice_last_time_s >= 0 else 0
        return after(service_day_origin(last, tz), secs)
    if rule.booking_type == 1:
        return pickup - dt.timedelta(minutes=max(0, rule.prior_notice_duration_min))
    return pickup


def opening(rule: BookingRule, pickup: dt.datetime, day: dt.date, tz,
            runs_on: Callable[[str, dt.date], bool] | None = None) -> dt.datetime | None:
    """First moment bookings are taken, or None when open any time before the deadline.

    Same-day rules (type 1) open ``prior_notice_duration_max`` minutes before the pickup or, when that is not
    given, on ``prior_notice_start_day`` like prior-day rules (type 2) -- GTFS allows the start day for type 1
    when no maximum duration is set."""
    if rule.booking_type == 1 and rule.prior_notice_duration_max >= 0:
        return pickup - dt.timedelta(minutes=rule.prior_notice_duration_max)
    if rule.booking_type in (1, 2) and rule.prior_notice_start_day >= 0:
        d = _days_before(day, rule.prior_notice_start_day, rule.prior_notice_service_id, runs_on)
        secs = rule.prior_notice_start_time_s if rule.prior_notice_start_time_s >= 0 else 0
        return after(service_day_origin(d, tz), secs)
    return None


def earliest_pickup(rule: BookingRule, booked_at: dt.datetime, day: dt.date, tz,
                    runs_on: Callable[[str, dt.date], bool] | None = None) -> dt.datetime | None:
    """Earliest pickup still bookable at ``booked_at`` on service day ``day``; None if none is.

    Types 0 and 1 move the pickup (at least the minimum notice after ``booked_at``); type 2 closes
    the whole service day at its deadline."""
    if rule.booking_type == 2:
        if booked_at > deadline(rule, booked_at, day, tz, runs_on):
            return None
        return service_day_origin(day, tz) - dt.timedelta(days=1)  # no bound within the day
    if rule.booking_type == 1:
        return booked_at + dt.timedelta(minutes=max(0, rule.prior_notice_duration_min))
    return booked_at


def phone_display(phone: str, lang: str = "fr") -> str:
    """'+33 3 53 48 00 00' -> '03 53 48 00 00' in French; other numbers as given."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    if lang == "fr" and digits.startswith("+33") and len(digits) == 12:
        nat = "0" + digits[3:]
        return " ".join(nat[i:i + 2] for i in range(0, 10, 2))
    return (phone or "").strip()


def when_text(t: dt.datetime, lang: str = "fr") -> str:
    """'lundi 30 novembre à 17:00' / 'Monday 30 November at 17:00' (names from Babel, words from the
    catalogs)."""
    day = message("book_day_first", lang) if t.day == 1 else str(t.day)
    return message("book_when", lang, weekday=weekday_name(t, lang), day=day, month=month_name(t, lang),
                   hm=f"{t:%H:%M}")


def instructions(rule: BookingRule, dl: dt.datetime, opens: dt.datetime | None = None, lang: str = "fr",
                 fallback_phone: str = "") -> str:
    """One sentence: how and until when to book."""
    phone = phone_display(rule.phone_number or fallback_phone, lang)
    url = rule.booking_url or ""
    how = message("book_how_phone", lang, phone=phone) if phone else message("book_how", lang)
    if url:
        how += message("book_or_url", lang, url=url)
    text = message("book_before", lang, how=how, when=when_text(dl, lang))
    if opens is not None:
        text += message("book_opens", lang, when=when_text(opens, lang))
    return text


def booking_json(rules: list[BookingRule], dl: dt.datetime, opens: dt.datetime | None,
                 fallback_phone: str = "") -> dict:
    """The ``booking`` of a TAD leg: phone, deadline (ISO 8601 with offset), message, url, rule id(s), instructions."""
    rule = rules[0]
    out: dict = {
        "phone": rule.phone_number or fallback_phone,
        "deadline": dl.isoformat(),
        "message": rule.message or rule.pickup_message or rule.drop_off_message,
        "rule_id": rule.rule_id,
        "booking_type": rule.booking_type,
        "instructions": instructions(rule, dl, opens, "fr", fallback_phone),
        "instructions_en": instructions(rule, dl, opens, "en", fallback_phone),
    }
    url = rule.booking_url or rule.info_url
    if url:
        out["url"] = url
    if opens is not None:
        out["opens"] = opens.isoformat()
    others = [r.rule_id for r in rules[1:] if r.rule_id != rule.rule_id]
    if others:
        out["other_rule_ids"] = others
    return out
