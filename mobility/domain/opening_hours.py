"""OSM ``opening_hours`` values: open or not at a given time, the open intervals of a day, a FR/EN summary.

Parsing and evaluation are the ``opening-hours-py`` library's (the full OSM syntax: ``24/7``, weekdays,
``Sa[1]``, ``week``, months, dates, years, ``PH``, open ends ``10:00+``, fallback rules ``||``, comments).
What this module adds on top:

* ``PH`` follows the French public holidays (the library's calendar for ``FR``; the test suite checks it
  agrees with the ``holidays`` library used in :mod:`mobility.domain.holidays`);
* ``SH`` follows the school holidays of zone B (:func:`mobility.domain.holidays.is_school_holiday`): the
  library knows no school calendar, so each day is evaluated with the ``SH`` selectors resolved for it
  (``SH`` must start the rule's day selectors, as it usually does: ``SH off``, ``SH Mo-Fr 09:00-12:00``);
* times are local wall-clock: naive datetimes, or aware ones whose results carry the same tzinfo;
* states: ``open`` counts as open; ``closed``/``off`` and ``unknown`` as closed;
* :meth:`OpeningHours.describe`: a short French or English summary built from the evaluated week.

Hours past midnight belong to the day they start on, as the OSM specification says: ``Fr 22:00-02:00``
is open early on Saturday unless a later rule selects Saturday (``Fr 22:00-02:00; Sa off`` is closed then).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, time, timedelta, tzinfo

import opening_hours as ohlib
from babel.dates import get_day_names, get_month_names

from mobility.domain.holidays import is_public_holiday, is_school_holiday
from mobility.i18n import N_, message

WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAY_MIN = 24 * 60

#: the words of the descriptions: keys oh_* of the catalogs (mobility.i18n); day and month abbreviations are
#: Babel's ("lun." / "Mon", "janv." / "Jan")
_WORD_KEYS = [N_("oh_closed"), N_("oh_always"), N_("oh_ph"), N_("oh_ph_off"), N_("oh_sh"), N_("oh_sh_off"),
              N_("oh_details"), N_("oh_all_day")]
#: Babel locale of the abbreviations ("en": "Sep", where en_GB writes "Sept")
_ABBR_LOCALES = {"fr": "fr_FR", "en": "en"}


def _words(lang: str) -> dict[str, str]:
    return {k[3:]: message(k, lang) for k in _WORD_KEYS}


def _day_abbr(lang: str) -> tuple[str, ...]:
    names = get_day_names("abbreviated", locale=_ABBR_LOCALES[lang])
    return tuple(names[i] for i in range(7))  # Monday first


def _month_abbr(lang: str) -> tuple[str, ...]:
    names = get_month_names("abbreviated", locale=_ABBR_LOCALES[lang])
    return tuple(names[i] for i in range(1, 13))


#: minutes since the start of the day; the end may exceed 24:00 (past midnight)
Span = tuple[int, int]
Interval = tuple[datetime, datetime]

#: a day-selector list holding SH at the start of a rule ("SH", "SH,PH", "Sa,SH"), with what follows it
_SH_SELECTOR = re.compile(r"(^|;|,|\|\|)(\s*)((?:(?:[A-Z][a-z](?:-[A-Z][a-z])?|PH|SH)\s*,\s*)*SH"
                          r"(?:\s*,\s*(?:[A-Z][a-z](?:-[A-Z][a-z])?|PH|SH))*)(?![A-Za-z\[])")
#: a date selector no evaluated day matches (a day-selector list of SH alone, outside school holidays)
_NO_DAY = "1970Jan01"
_PARSER_POSITION = re.compile(r"-->\s*\d+:(\d+)")
_PARSER_PROBLEM = re.compile(r"=\s*(.+?)\s*$")
#: words for the grammar rules the library's parser names in "expected ..."
_GRAMMAR_WORDS = {
    "wday": "a weekday Mo..Su", "minute": "minutes 00..59", "hour": "an hour 00..24", "hour_minutes": "a time HH:MM",
    "timespan": "a time range like 08:30-12:00", "timespan_plus": "'-' and an end time",
    "EOI": "the end", "any_rule_separator": "';'", "rules_modifier": "a state (open, off, closed, unknown)",
    "holiday": "PH or SH", "always_open": "24/7", "small_range_selectors": "a weekday or a time range",
    "week_selector": "'week'", "monthday_range": "a month or date", "year": "a year", "comment": "a comment",
}
#: years the descriptions look at (from the current one): enough for every date to fall on a working day
_DESCRIBE_YEARS = 3
#: more date exceptions than this: the description quotes the value instead of listing them
_DESCRIBE_MAX_DATES = 6


#: descriptions by (text, lang, year)
_DESCRIPTIONS: dict[tuple[str, str, int], str] = {}


class OpeningHoursError(ValueError):
    """Bad ``opening_hours`` syntax; ``position`` is the 0-based character offset of the problem."""

    def __init__(self, problem: str, text: str, position: int) -> None:
        self.problem = problem
        self.text = text
        self.position = position
        super().__init__(f"{problem} at position {position} in opening_hours \"{text}\"")


def _outside_comments(text: str, pattern: str) -> bool:
    """True if ``pattern`` (a regex) occurs in ``text`` outside double-quoted comments."""
    return any(re.search(pattern, part) for part in text.split('"')[::2])


def _compile(text: str) -> ohlib.OpeningHours:
    try:
        return ohlib.OpeningHours(text, country="FR", auto_country=False, auto_timezone=False)
    except (ohlib.ParserError, SyntaxError, ValueError) as exc:
        message = str(exc)
        pos = _PARSER_POSITION.search(message)
        problem = _PARSER_PROBLEM.search(message)
        at = int(pos.group(1)) - 1 if pos else 0
        found = f"'{text[at]}'" if at < len(text) else "the end"
        hint = ""
        if at < len(text) and text[at].isdigit() and text[at - 1:at].isspace():
            hint = " (times are written HH:MM, e.g. 08:30-12:00, several ranges separated by ',')"
        raise OpeningHoursError(f"invalid syntax, found {found} where "
                                f"{_expected(problem.group(1) if problem else '')}{hint}", text, at) from None


def _expected(problem: str) -> str:
    """The parser's "expected wday, or timespan" in words."""
    if not problem.startswith("expected "):
        return "the text is not an opening_hours value"
    names = re.split(r",\s*(?:or\s+)?|\s+or\s+", problem.removeprefix("expected "))
    return "expected " + ", ".join(_GRAMMAR_WORDS.get(n.strip(), n.strip()) for n in names if n.strip())


class OpeningHours:
    """A parsed ``opening_hours`` value. Times are local wall-clock: pass naive datetimes, or aware ones
    (results then carry the same tzinfo)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._oh = _compile(text)
        self._has_sh = _outside_comments(text, r"\bSH\b")
        self._has_ph = _outside_comments(text, r"\bPH\b")
        if self._has_sh and not _SH_SELECTOR.search(text):
            raise OpeningHoursError("'SH' is supported at the start of a rule's day selectors (e.g. 'SH off', "
                                    "'SH Mo-Fr 09:00-12:00', 'SH,PH off')", text, text.find("SH"))
        self._sh_days: dict[date | None, ohlib.OpeningHours] = {}  # None: outside school holidays
        self._days: dict[date, list[Span]] = {}

    @classmethod
    def parse(cls, text: str) -> "OpeningHours":
        """Parse ``text``; raises :class:`OpeningHoursError` (a ``ValueError``) naming the problem and position."""
        if not isinstance(text, str):
            raise OpeningHoursError(f"expected a string, got {type(text).__name__}", str(text), 0)
        text = text.strip()
        if not text:
            raise OpeningHoursError("empty opening_hours", text, 0)
        # a trailing ";" is a common slip the previous parser accepted: keep accepting it
        return cls(text.rstrip(";").rstrip() if text.endswith(";") and text.rstrip(";").strip() else text)

    def __repr__(self) -> str:
        return f"OpeningHours({self.text!r})"

    def __reduce__(self):  # the library's object does not pickle: rebuild from the text (process pools, caches)
        return (OpeningHours, (self.text,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpeningHours) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)

    # evaluation
    def _evaluator(self, day: date) -> ohlib.OpeningHours:
        """The library's expression for ``day``, with each day-selector list holding SH resolved: on a school
        holiday the list is true, so it becomes that day's date; otherwise SH leaves the list (a list of SH
        alone becomes a date long past, selecting nothing)."""
        if not self._has_sh:
            return self._oh
        key = day if is_school_holiday(day) else None
        oh = self._sh_days.get(key)
        if oh is None:
            stamp = f"{day.year}{MONTHS[day.month - 1]}{day.day:02d}"

            def resolve(m: re.Match) -> str:
                if key is not None:
                    return f"{m.group(1)}{m.group(2)}{stamp}"
                rest = [t.strip() for t in m.group(3).split(",") if t.strip() != "SH"]
                return f"{m.group(1)}{m.group(2)}{','.join(rest) or _NO_DAY}"

            if len(self._sh_days) > 1024:
                self._sh_days.clear()
            oh = self._sh_days[key] = _compile(_SH_SELECTOR.sub(resolve, self.text))
        return oh

    def _clipped(self, day: date) -> list[Span]:
        """Open spans of the evaluated timeline within ``day`` (0..24:00), cached."""
        cached = self._days.get(day)
        if cached is None:
            midnight = datetime.combine(day, time(0))
            out: list[Span] = []
            for start, end, state, _comment in self._evaluator(day).intervals(midnight, midnight + timedelta(days=1)):
                if state == ohlib.State.OPEN:
                    s = round((start - midnight).total_seconds() / 60)
                    e = round((end - midnight).total_seconds() / 60)
                    if out and s <= out[-1][1]:
                        out[-1] = (out[-1][0], max(out[-1][1], e))
                    elif e > s:
                        out.append((s, e))
            if len(self._days) > 4096:  # long-running servers: keep the cache bounded
                self._days.clear()
            cached = self._days[day] = out
        return cached

    def _prefill(self, first: date, last: date) -> None:
        """Fill the day cache for ``first``..``last`` from one pass of the library over the period (without
        SH, one expression serves every day)."""
        if self._has_sh:
            return
        days: dict[date, list[Span]] = {}
        day = first
        while day <= last:
            days[day] = []
            day += timedelta(days=1)
        start = datetime.combine(first, time(0))
        for s, e, state, _comment in self._oh.intervals(start, datetime.combine(last + timedelta(days=1), time(0))):
            if state != ohlib.State.OPEN:
                continue
            day = s.date()
            while datetime.combine(day, time(0)) < e:  # split at midnights
                midnight = datetime.combine(day, time(0))
                a = max(s, midnight) - midnight
                b = min(e, midnight + timedelta(days=1)) - midnight
                spans = days[day]
                a_min, b_min = round(a.total_seconds() / 60), round(b.total_seconds() / 60)
                if spans and a_min <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], b_min))
                elif b_min > a_min:
                    spans.append((a_min, b_min))
                day += timedelta(days=1)
        if len(self._days) + len(days) > 4096:
            self._days.clear()
        self._days.update(days)

    def day_spans(self, day: date) -> list[Span]:
        """Opening spans of ``day`` in minutes since its midnight; a span running past midnight into the next
        day's first hours ends after 24:00 (``Fr 22:00-02:00`` gives Friday (1320, 1560)) and those hours are
        not repeated on the next day."""
        spans = list(self._clipped(day))
        if spans and spans[0][0] == 0 and spans[0][1] < DAY_MIN and self._runs_into(day - timedelta(days=1)):
            spans.pop(0)  # the end of the previous day's span
        if self._runs_into(day):
            nxt = self._clipped(day + timedelta(days=1))
            spans[-1] = (spans[-1][0], DAY_MIN + nxt[0][1])
        return spans

    def _runs_into(self, day: date) -> bool:
        """True if a span of ``day`` that started after midnight continues into the next day's first hours."""
        spans, nxt = self._clipped(day), self._clipped(day + timedelta(days=1))
        return (bool(spans) and spans[-1][1] == DAY_MIN and spans[-1][0] > 0 and bool(nxt) and nxt[0][0] == 0
                and nxt[0][1] < DAY_MIN)

    def _intervals_between(self, first: date, last: date, tz: tzinfo | None) -> list[Interval]:
        """Merged open intervals of the days ``first``..``last`` (clipped to them)."""
        out: list[list[datetime]] = []
        day = first
        while day <= last:
            midnight = datetime.combine(day, time(0), tzinfo=tz)
            for s, e in self._clipped(day):
                start, end = midnight + timedelta(minutes=s), midnight + timedelta(minutes=e)
                if out and start <= out[-1][1]:
                    out[-1][1] = max(out[-1][1], end)
                else:
                    out.append([start, end])
            day += timedelta(days=1)
        return [(s, e) for s, e in out]

    def intervals_on(self, day: date, tz: tzinfo | None = None) -> list[Interval]:
        """Sorted, merged open intervals overlapping ``day`` (not clipped to it: ``Fr 22:00-02:00`` gives
        Fri 22:00 -> Sat 02:00 for Friday *and* for Saturday; the days before and after bound them)."""
        if isinstance(day, datetime):
            tz, day = day.tzinfo, day.date()
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        spans = self._intervals_between(day - timedelta(days=1), day + timedelta(days=1), tz)
        return [(s, e) for s, e in spans if e > midnight and s < midnight + timedelta(days=1)]

    def is_open(self, at: datetime) -> bool:
        """True if open at the instant ``at`` (an interval includes its start, excludes its end)."""
        m = at.hour * 60 + at.minute + at.second / 60 + at.microsecond / 6e7
        return any(s <= m < e for s, e in self._clipped(at.date()))

    def next_open_interval(self, after: datetime, within_days: int = 366) -> Interval | None:
        """The open interval containing ``after`` (its start may then be earlier), else the next one to start;
        None if closed for ``within_days``. Consecutive days open round the clock merge into one interval,
        reported at most 14 days long."""
        day = after.date() - timedelta(days=1)
        end_day = after.date() + timedelta(days=within_days)
        while day <= end_day:
            for s, e in self._intervals_between(day, day + timedelta(days=14), after.tzinfo):
                if e > after and s <= datetime.combine(end_day, time(23, 59), tzinfo=after.tzinfo):
                    return s, e
            day += timedelta(days=15)
        return None

    def open_on_some_day(self, first: date, last: date) -> bool:
        """True if the site opens at all (some open span) on one of the days ``first``..``last``."""
        day = first
        while day <= last:
            if self._clipped(day):
                return True
            day += timedelta(days=1)
        return False

    def earliest_visit(self, after: datetime, starts_before: datetime, margin_min: float = 0) -> datetime | None:
        """The earliest ``max(start, after)`` over the open intervals ``(start, end)`` with ``start <
        starts_before`` and ``end - max(start, after) >= margin_min`` minutes (and ``end > after``): the first
        moment from ``after`` on at which a visit of ``margin_min`` minutes fits in an interval opening before
        ``starts_before``; None if there is none.

        The intervals are the merged ones of the days ``after.date() - 1`` .. ``starts_before.date()``: every
        interval :meth:`is_open_during` or :meth:`next_open_interval` finds for an instant in
        [``after``, ``starts_before``), restricted to those days, lies within one of them (merging over more days
        only lengthens intervals)."""
        margin = timedelta(minutes=margin_min)
        for start, end in self._intervals_between(after.date() - timedelta(days=1), starts_before.date(), after.tzinfo):
            if start >= starts_before:
                break
            if end > after and end - max(start, after) >= margin:
                return max(start, after)
        return None

    def is_open_during(self, start: datetime, end: datetime | None = None, margin_min: float = 0) -> bool:
        """True if open without a break from ``start`` until ``end + margin_min`` minutes.

        Use it for a visit: arriving at ``start`` and leaving at ``end`` (default: ``start``); ``margin_min`` is
        how long the desk must still be open after that, e.g. ``is_open_during(arrival, margin_min=15)`` is
        True only if the site is open at ``arrival`` and stays open at least 15 more minutes.
        """
        stop = (end or start) + timedelta(minutes=margin_min)
        if stop < start:
            raise ValueError("is_open_during: end is before start")
        if stop == start:
            return self.is_open(start)
        spans = self._intervals_between(start.date() - timedelta(days=1), stop.date(), start.tzinfo)
        return any(s <= start and stop <= e for s, e in spans)

    # description
    def describe(self, lang: str = "fr", year: int | None = None) -> str:
        """Human-readable summary, e.g. ``lun.-ven. 08:30–12:00, 13:30–17:00; fermé les jours fériés``.

        Built from the evaluated days of ``year`` and the two after (default: the current year): the usual
        hours of each weekday, then public and school holidays when the value names them, then the dates
        that differ from their weekday (``25 déc. fermé``)."""
        lang = "en" if lang == "en" else "fr"
        year = year or date.today().year
        key = (self.text, lang, year)  # shared by instances: many sites have the same hours
        text = _DESCRIPTIONS.get(key)
        if text is None:
            if len(_DESCRIPTIONS) > 4096:
                _DESCRIPTIONS.clear()
            text = _DESCRIPTIONS[key] = self._describe(lang, year)
        return text

    def _describe(self, lang: str, year: int) -> str:
        words = _words(lang)
        days: list[tuple[date, tuple[Span, ...], str]] = []  # (day, spans, "ph"|"sh"|"")
        day, last = date(year, 1, 1), date(year + _DESCRIBE_YEARS - 1, 12, 31)
        self._prefill(day - timedelta(days=1), last + timedelta(days=1))
        while day <= last:
            kind = ("ph" if self._has_ph and is_public_holiday(day)
                    else "sh" if self._has_sh and is_school_holiday(day) else "")
            days.append((day, tuple(self.day_spans(day)), kind))
            day += timedelta(days=1)
        if all(spans == ((0, DAY_MIN),) for _, spans, _ in days):
            return words["always"]
        usual = [Counter(s for d, s, k in days if not k and d.weekday() == w).most_common(1) for w in range(7)]
        week = [u[0][0] if u else () for u in usual]
        parts = []
        groups: dict[tuple[Span, ...], list[int]] = {}
        for w, spans in enumerate(week):
            if spans:
                groups.setdefault(spans, []).append(w)
        for spans, weekdays in sorted(groups.items(), key=lambda kv: kv[1][0]):
            parts.append(f"{_days_text(weekdays, lang)} {_spans_text(spans, lang)}")
        if not parts:
            parts.append(words["closed"])
        for kind in ("ph", "sh"):
            seen = Counter(s for _, s, k in days if k == kind)
            if seen:
                spans = seen.most_common(1)[0][0]
                parts.append(f"{words[kind]} {_spans_text(spans, lang)}" if spans else words[kind + "_off"])
        # dates differing from their weekday, by (month, day) over the years looked at, in calendar order
        exceptions = {(d.month, d.day): s for d, s, k in days if not k and s != week[d.weekday()]}
        runs: list[list] = []  # [first (m, d), last (m, d), spans]
        for md in sorted(exceptions):
            spans = exceptions[md]
            if runs and runs[-1][2] == spans and _next_md(runs[-1][1]) == md:
                runs[-1][1] = md
            else:
                runs.append([md, md, spans])
        if len(runs) > 1 and runs[0][0] == (1, 1) and runs[-1][1] == (12, 31) and runs[0][2] == runs[-1][2]:
            runs[-1][1] = runs.pop(0)[1]  # over the new year: "24 déc.-2 janv."
        if len(runs) > _DESCRIBE_MAX_DATES:  # a pattern dates cannot summarise (Sa[1], week 01-53/2...)
            parts.append(words["details"].format(text=self.text))
            runs = []
        for first, last_md, spans in runs:
            when = _md_text(first, lang) if first == last_md else f"{_md_text(first, lang)}-{_md_text(last_md, lang)}"
            parts.append(f"{when} {_spans_text(spans, lang) if spans else words['closed']}")
        return "; ".join(parts)


def _next_md(md: tuple[int, int]) -> tuple[int, int]:
    nxt = date(2024, *md) + timedelta(days=1)  # a leap year: Feb 29 exists
    return nxt.month, nxt.day


def _md_text(md: tuple[int, int], lang: str) -> str:
    month = _month_abbr(lang)[md[0] - 1]
    return message("oh_day_month", lang, day=md[1], month=month)


def _hhmm(minutes: int) -> str:
    if minutes > DAY_MIN:
        minutes -= DAY_MIN
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _days_text(days: list[int], lang: str) -> str:
    names = _day_abbr(lang)
    runs: list[list[int]] = []
    for d in sorted(days):
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:  # wrap over the week end: "ven.-lun."
        runs[-1].extend(runs.pop(0))
    out = []
    for run in runs:
        if len(run) >= 3:
            out.append(f"{names[run[0]]}-{names[run[-1]]}")
        else:
            out.extend(names[d] for d in run)
    return ", ".join(out)


def _spans_text(spans: tuple[Span, ...], lang: str) -> str:
    if spans == ((0, DAY_MIN),):
        return message("oh_all_day", lang)
    return ", ".join(f"{_hhmm(s)}–{_hhmm(e)}" for s, e in spans)
