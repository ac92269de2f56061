"""French public holidays and the OSM opening_hours parser/evaluator."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mobility.domain.holidays import easter_sunday, holiday_name, is_public_holiday, public_holidays
from mobility.domain.opening_hours import OpeningHours, OpeningHoursError

OFFICE = "Mo-Fr 08:30-12:00,13:30-17:00; PH off"


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ------------------------------------------------------------------------------------------------ holidays
@pytest.mark.parametrize("year, easter", [(2000, date(2000, 4, 23)), (2019, date(2019, 4, 21)),
                                          (2024, date(2024, 3, 31)), (2026, date(2026, 4, 5)),
                                          (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25))])
def test_easter(year, easter):
    assert easter_sunday(year) == easter


def test_public_holidays_2027():
    days = public_holidays(2027)
    assert len(days) == 11
    assert days[date(2027, 3, 29)] == "Lundi de Pâques"
    assert days[date(2027, 5, 6)] == "Ascension"
    assert days[date(2027, 5, 17)] == "Lundi de Pentecôte"
    assert is_public_holiday(date(2026, 12, 25)) and holiday_name(date(2026, 12, 25)) == "Noël"
    assert is_public_holiday(datetime(2026, 7, 14, 10, 0))
    assert not is_public_holiday(date(2026, 12, 24))


# ------------------------------------------------------------------------------------------------ evaluation
def test_office_hours():
    oh = OpeningHours.parse(OFFICE)
    assert oh.is_open(dt("2026-06-01T08:30"))  # Monday, opening instant included
    assert not oh.is_open(dt("2026-06-01T12:00"))  # closing instant excluded
    assert not oh.is_open(dt("2026-06-01T12:30"))
    assert oh.is_open(dt("2026-06-05T16:59"))
    assert not oh.is_open(dt("2026-06-06T10:00"))  # Saturday
    assert oh.intervals_on(date(2026, 6, 1)) == [(dt("2026-06-01T08:30"), dt("2026-06-01T12:00")),
                                                 (dt("2026-06-01T13:30"), dt("2026-06-01T17:00"))]


def test_public_holidays_closed():
    oh = OpeningHours.parse(OFFICE)
    assert not oh.is_open(dt("2026-12-25T10:00"))  # Christmas, a Friday
    assert oh.intervals_on(date(2026, 12, 25)) == []
    assert not oh.is_open(dt("2027-03-29T10:00"))  # Easter Monday
    assert oh.is_open(dt("2027-03-30T10:00"))
    # without "PH off", a holiday follows its weekday
    assert OpeningHours.parse("Mo-Fr 08:30-12:00").is_open(dt("2027-03-29T10:00"))


def test_public_holiday_hours():
    oh = OpeningHours.parse("Mo-Su 08:00-20:00; PH 10:00-12:00")
    assert oh.intervals_on(date(2026, 12, 25)) == [(dt("2026-12-25T10:00"), dt("2026-12-25T12:00"))]
    assert oh.is_open(dt("2026-12-24T18:00"))
    oh = OpeningHours.parse("Mo-Fr 09:00-12:00; Sa,PH 10:00-11:00")
    assert oh.is_open(dt("2026-06-06T10:30")) and oh.is_open(dt("2027-03-29T10:30"))
    assert not oh.is_open(dt("2027-03-29T11:30"))


def test_wednesday_afternoon_only():
    oh = OpeningHours.parse("We 14:00-17:00")
    assert oh.is_open(dt("2026-06-03T15:00"))
    assert not oh.is_open(dt("2026-06-03T10:00"))
    assert not oh.is_open(dt("2026-06-04T15:00"))
    assert oh.next_open_interval(dt("2026-06-04T09:00")) == (dt("2026-06-10T14:00"), dt("2026-06-10T17:00"))
    assert oh.describe() == "mer. 14:00–17:00"


def test_later_rule_overrides_earlier_days():
    oh = OpeningHours.parse("Mo-Fr 09:00-12:00,14:00-17:00; We 14:00-17:00")
    assert not oh.is_open(dt("2026-06-03T10:00"))  # Wednesday morning replaced
    assert oh.is_open(dt("2026-06-02T10:00"))
    oh = OpeningHours.parse("Mo-Fr 09:00-17:00; We off")
    assert oh.intervals_on(date(2026, 6, 3)) == []


def test_additional_rule_adds():
    oh = OpeningHours.parse("Mo-Fr 08:00-12:00, We 14:00-16:00")
    assert oh.is_open(dt("2026-06-03T09:00")) and oh.is_open(dt("2026-06-03T15:00"))


def test_off_with_times_removes_them():
    oh = OpeningHours.parse("Mo-Fr 08:00-18:00; We 12:00-14:00 off")
    assert oh.intervals_on(date(2026, 6, 3)) == [(dt("2026-06-03T08:00"), dt("2026-06-03T12:00")),
                                                 (dt("2026-06-03T14:00"), dt("2026-06-03T18:00"))]


def test_weekday_lists_and_wrapping_ranges():
    oh = OpeningHours.parse("Mo,We,Fr 09:00-12:00")
    assert [oh.is_open(dt(f"2026-06-0{d}T10:00")) for d in range(1, 8)] == [
        True, False, True, False, True, False, False]
    oh = OpeningHours.parse("Fr-Mo 10:00-12:00")
    assert [oh.is_open(dt(f"2026-06-0{d}T10:00")) for d in range(1, 8)] == [
        True, False, False, False, True, True, True]


def test_past_midnight():
    oh = OpeningHours.parse("Fr 22:00-02:00")
    assert oh.is_open(dt("2026-06-05T23:00"))
    assert oh.is_open(dt("2026-06-06T01:59"))  # Saturday early morning belongs to Friday's range
    assert not oh.is_open(dt("2026-06-06T02:00"))
    assert not oh.is_open(dt("2026-06-05T01:00"))
    friday_night = (dt("2026-06-05T22:00"), dt("2026-06-06T02:00"))
    assert oh.intervals_on(date(2026, 6, 5)) == [friday_night]
    assert oh.intervals_on(date(2026, 6, 6)) == [friday_night]
    assert oh.is_open_during(dt("2026-06-05T23:30"), dt("2026-06-06T01:00"))


def test_24_7():
    oh = OpeningHours.parse("24/7")
    assert oh.is_open(dt("2026-12-25T03:00"))
    assert oh.is_open_during(dt("2026-06-01T23:00"), dt("2026-06-02T01:00"))
    assert oh.describe() == "ouvert 24h/24, 7j/7" and oh.describe("en") == "open 24/7"


def test_months_and_dates():
    oh = OpeningHours.parse("Mo-Fr 08:00-18:00; Dec 25 off; Jul-Aug Mo-Fr 09:00-12:00")
    assert oh.is_open(dt("2026-06-01T15:00"))
    assert not oh.is_open(dt("2026-07-01T15:00")) and oh.is_open(dt("2026-07-01T10:00"))
    oh = OpeningHours.parse("Mo-Su 10:00-18:00; Dec 24-Jan 02 off")
    assert not oh.is_open(dt("2026-12-31T12:00")) and not oh.is_open(dt("2027-01-02T12:00"))
    assert oh.is_open(dt("2027-01-03T12:00")) and oh.is_open(dt("2026-12-23T12:00"))


def test_next_open_interval():
    oh = OpeningHours.parse(OFFICE)
    # Friday evening before Christmas-less weekend: next is Monday morning
    assert oh.next_open_interval(dt("2026-06-05T18:00")) == (dt("2026-06-08T08:30"), dt("2026-06-08T12:00"))
    # currently open: the running interval
    assert oh.next_open_interval(dt("2026-06-08T10:00")) == (dt("2026-06-08T08:30"), dt("2026-06-08T12:00"))
    # Thursday 2026-12-24 evening -> Christmas Friday closed -> Monday 28th
    assert oh.next_open_interval(dt("2026-12-24T18:00"))[0] == dt("2026-12-28T08:30")
    assert OpeningHours.parse("Mo-Su off").next_open_interval(dt("2026-06-01T00:00")) is None


def test_is_open_during_with_margin():
    oh = OpeningHours.parse(OFFICE)
    arrival = dt("2026-06-01T11:50")
    assert oh.is_open_during(arrival)
    assert oh.is_open_during(arrival, margin_min=10)  # still open 10 minutes later (until 12:00)
    assert not oh.is_open_during(arrival, margin_min=15)
    assert oh.is_open_during(dt("2026-06-01T09:00"), dt("2026-06-01T11:00"), margin_min=30)
    assert not oh.is_open_during(dt("2026-06-01T11:00"), dt("2026-06-01T14:00"))  # lunch break
    assert not oh.is_open_during(dt("2026-06-01T08:00"), margin_min=5)


def test_timezone_aware():
    paris = ZoneInfo("Europe/Paris")
    oh = OpeningHours.parse(OFFICE)
    assert oh.is_open(datetime(2026, 6, 1, 9, 0, tzinfo=paris))
    start, end = oh.intervals_on(datetime(2026, 6, 1, 0, 0, tzinfo=paris))[0]
    assert start.tzinfo is paris and start.hour == 8 and start.minute == 30
    nxt = oh.next_open_interval(datetime(2026, 6, 1, 18, 0, tzinfo=paris))
    assert nxt[0] == datetime(2026, 6, 2, 8, 30, tzinfo=paris)


# ------------------------------------------------------------------------------------------------ describe
def test_describe():
    assert OpeningHours.parse(OFFICE).describe() == "lun.-ven. 08:30–12:00, 13:30–17:00; fermé les jours fériés"
    assert OpeningHours.parse(OFFICE).describe("en") == "Mon-Fri 08:30–12:00, 13:30–17:00; closed on public holidays"
    text = OpeningHours.parse("Mo,Tu,Th,Fr 09:00-12:00,14:00-17:00; We 14:00-17:00; PH off").describe()
    assert text == "lun., mar., jeu., ven. 09:00–12:00, 14:00–17:00; mer. 14:00–17:00; fermé les jours fériés"
    assert OpeningHours.parse("Fr-Mo 10:00-12:00").describe("en") == "Fri-Mon 10:00–12:00"
    assert OpeningHours.parse("Mo-Fr 09:00-17:00; Dec 25 off").describe() == "lun.-ven. 09:00–17:00; 25 déc. fermé"
    assert OpeningHours.parse("Mo-Su off").describe() == "fermé"
    assert OpeningHours.parse("Fr 22:00-02:00").describe() == "ven. 22:00–02:00"
    assert OpeningHours.parse("Mo-Su 10:00-18:00; Dec 24-Jan 02 off").describe("en") == \
        "Mon-Sun 10:00–18:00; Dec 24-Jan 2 closed"
    assert OpeningHours.parse("Mo-Fr 08:00-18:00; Jul-Aug Mo-Fr 09:00-12:00").describe() == \
        "lun.-ven. 08:00–18:00; 1 juil.-31 août 09:00–12:00"
    assert OpeningHours.parse("Mo-Fr 09:00-12:00; Sa[1] 09:00-12:00").describe() == \
        "lun.-ven. 09:00–12:00; horaires détaillés : Mo-Fr 09:00-12:00; Sa[1] 09:00-12:00"


# ------------------------------------------------------------------------------------------------ syntax errors
@pytest.mark.parametrize("text, problem, position", [
    ("Mo-Fx 08:00-12:00", "found 'F' where expected a weekday Mo..Su", 3),
    ("Mo-Fr 08:00-25:70", "found '7' where expected minutes 00..59", 15),
    ("Mo-Fr 08:00", "found the end where expected '-' and an end time", 11),
    ("Mo-Fr 08h00-12h00", "times are written HH:MM", 6),
    ("Lu-Ve 08:00-12:00", "found 'L' where expected", 0),
    ("Mo-Fr 08:00-12:00 €", "found '€' where expected", 18),
    ("Jul-Aug SH off", "'SH' is supported at the start of a rule's day selectors", 8),
    ("", "empty opening_hours", 0),
    ("   ", "empty opening_hours", 0),
])
def test_syntax_errors_name_problem_and_position(text, problem, position):
    with pytest.raises(OpeningHoursError) as exc:
        OpeningHours.parse(text)
    assert problem in str(exc.value)
    assert exc.value.position == position
    assert f"at position {position}" in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_pickles():
    import pickle

    oh = pickle.loads(pickle.dumps(OpeningHours.parse(OFFICE)))
    assert oh == OpeningHours.parse(OFFICE) and not oh.is_open(dt("2026-12-25T10:00"))


def test_trailing_semicolon_still_accepted():
    assert OpeningHours.parse("Mo-Fr 08:00-12:00;").is_open(dt("2026-06-01T09:00"))


# ------------------------------------------------------------------------------------- the library's full syntax
def test_saturday_after_friday_night_follows_the_specification():
    # a later rule selecting Saturday replaces the whole of Saturday, the early hours Friday's range ran into too
    oh = OpeningHours.parse("Fr 22:00-02:00; Sa off")
    assert oh.is_open(dt("2026-06-05T23:00"))
    assert not oh.is_open(dt("2026-06-06T01:00"))
    assert oh.intervals_on(date(2026, 6, 6)) == []  # Friday's range ends at midnight
    assert oh.day_spans(date(2026, 6, 5)) == [(22 * 60, 24 * 60)]
    assert OpeningHours.parse("Fr 22:00-02:00").day_spans(date(2026, 6, 5)) == [(22 * 60, 26 * 60)]
    assert OpeningHours.parse("Fr 22:00-02:00").day_spans(date(2026, 6, 6)) == []


def test_school_holidays_zone_b():
    oh = OpeningHours.parse("Mo-Fr 08:30-12:00,13:30-17:00; SH Mo-Fr 09:00-12:00; PH off")
    assert oh.is_open(dt("2026-12-22T14:00")) is False  # Christmas school holidays, zone B: mornings only
    assert oh.is_open(dt("2026-12-22T09:30"))
    assert oh.is_open(dt("2026-12-15T14:00"))  # a school week
    assert not oh.is_open(dt("2026-12-25T10:00"))  # Christmas: PH
    closed = OpeningHours.parse("Mo-Fr 09:00-17:00; SH,PH off")
    assert not closed.is_open(dt("2027-02-23T10:00"))  # winter holidays of zone B, 2027: Feb 20 - Mar 7
    assert closed.is_open(dt("2027-03-09T10:00")) and closed.is_open(dt("2027-02-16T10:00"))
    assert closed.describe() == "lun.-ven. 09:00–17:00; fermé les jours fériés; fermé pendant les vacances scolaires"


def test_nth_weekday_week_numbers_years_open_end_fallback():
    first_saturday = OpeningHours.parse("Mo-Fr 09:00-12:00; Sa[1] 09:00-12:00")
    assert first_saturday.is_open(dt("2026-06-06T10:00")) and not first_saturday.is_open(dt("2026-06-13T10:00"))
    odd_weeks = OpeningHours.parse("week 01-53/2 Mo 08:00-12:00")
    assert odd_weeks.is_open(dt("2026-06-01T09:00"))  # ISO week 23
    assert not odd_weeks.is_open(dt("2026-06-08T09:00"))  # week 24
    one_year = OpeningHours.parse("Mo-Fr 09:00-17:00; 2026 Dec 24 off")
    assert not one_year.is_open(dt("2026-12-24T10:00")) and one_year.is_open(dt("2027-12-24T10:00"))
    open_end = OpeningHours.parse("Sa 10:00+")
    assert not open_end.is_open(dt("2026-06-06T09:00")) and open_end.is_open(dt("2026-06-06T10:00"))
    fallback = OpeningHours.parse('Mo-Fr 09:00-12:00 || "sur rendez-vous"')
    assert fallback.is_open(dt("2026-06-01T10:00"))
    assert OpeningHours.parse("Mo-Fr 09:00-12:00 unknown").is_open(dt("2026-06-01T10:00")) is False


def test_ph_calendar_agrees_with_the_holidays_library():
    import holidays

    oh = OpeningHours.parse("PH")
    for year in range(2024, 2036):
        expected = set(holidays.country_holidays("FR", years=year))
        day, found = date(year, 1, 1), set()
        while day.year == year:
            if oh.is_open(datetime.combine(day, datetime.min.time()).replace(hour=12)):
                found.add(day)
            day = date.fromordinal(day.toordinal() + 1)
        assert found == expected, year


# ------------------------------------------------------------------------------------------------ properties
@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)))
def test_is_open_agrees_with_intervals(moment):
    oh = OpeningHours.parse("Mo-Fr 08:30-12:00,13:30-17:00; Sa 22:00-03:00; PH off")
    in_interval = any(s <= moment < e for s, e in oh.intervals_on(moment.date()))
    assert oh.is_open(moment) == in_interval
    nxt = oh.next_open_interval(moment)
    assert nxt is not None and nxt[1] > moment
    assert oh.is_open(moment) == (nxt[0] <= moment)
    assert oh.is_open(max(nxt[0], moment)) and not oh.is_open(nxt[1])
