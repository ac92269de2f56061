"""Parse and evaluate OSM ``opening_hours`` strings (the subset public services use): open or not at a given time.

Supported syntax (rules separated by ``;``; a later rule replaces earlier ones on the days it selects; a rule
after ``,`` instead of ``;`` is an *additional* rule that adds to them):

* ``24/7``;
* weekdays ``Mo Tu We Th Fr Sa Su``, ranges (``Mo-Fr``, wrapping ``Fr-Mo``), lists (``Mo,We,Fr``), ``PH``
  (French public holidays, see :mod:`mobility.domain.holidays`), combined (``Sa,PH``);
* months and dates before the weekdays: ``Jan-Jun``, ``Dec 25``, ``Dec 24-26``, ``Dec 24-Jan 02``, lists;
* time ranges ``08:30-12:00,13:30-17:00``; an end before the start or past ``24:00`` runs past midnight
  (``22:00-02:00`` == ``22:00-26:00``: the two hours after midnight belong to the day the range starts on);
* states ``off``/``closed`` (the whole day, or with times: those times are removed) and ``open``;
* a rule with selectors but no times means the whole day; comments in double quotes are ignored.

Not supported (a clear error): school holidays ``SH``, years, weeks, ``Mo[1]``, open ends ``10:00+``, events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import NoReturn

from mobility.domain.holidays import is_public_holiday

WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAY_MIN = 24 * 60

_DAY_NAMES = {
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
_MONTH_NAMES = {
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
    "en": MONTHS,
}
_WORDS = {
    "fr": {"closed": "fermé", "always": "ouvert 24h/24, 7j/7", "ph": "jours fériés",
           "ph_off": "fermé les jours fériés"},
    "en": {"closed": "closed", "always": "open 24/7", "ph": "public holidays",
           "ph_off": "closed on public holidays"},
}

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<always>24/7)
  | (?P<time>\d{1,2}:\d{2})
  | (?P<num>\d+)
  | (?P<word>[A-Za-z]+)
  | (?P<comment>"[^"]*")
  | (?P<punct>[-,;\[\]+/:|])
""", re.VERBOSE)

#: (month, day) -> (month, day), inclusive, wrapping over the new year when start > end
DateRange = tuple[tuple[int, int], tuple[int, int]]
#: minutes since the start of the day; the end may exceed 24:00 (past midnight)
Span = tuple[int, int]


class OpeningHoursError(ValueError):
    """Bad ``opening_hours`` syntax; ``position`` is the 0-based character offset of the problem."""

    def __init__(self, problem: str, text: str, position: int) -> None:
        self.problem = problem
        self.text = text
        self.position = position
        super().__init__(f"{problem} at position {position} in opening_hours \"{text}\"")


@dataclass(frozen=True)
class _Rule:
    dates: tuple[DateRange, ...]  # empty: every date
    weekdays: frozenset[int]  # 0 = Monday; empty and not ph: every day
    ph: bool  # selects public holidays
    spans: tuple[Span, ...]  # empty: the whole day
    is_open: bool
    additional: bool  # introduced by "," (adds) rather than ";" (replaces)

    def matches_date(self, day: date) -> bool:
        if not self.dates:
            return True
        md = (day.month, day.day)
        return any(a <= md <= b if a <= b else (md >= a or md <= b) for a, b in self.dates)

    def matches(self, day: date) -> bool:
        if not self.matches_date(day):
            return False
        if not self.weekdays and not self.ph:
            return True
        return day.weekday() in self.weekdays or (self.ph and is_public_holiday(day))


# --------------------------------------------------------------------------------------------------- parsing
class _Parser:
    """Recursive-descent parser over the token list of one ``opening_hours`` string."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN_RE.match(text, pos)
            if not m:
                self.fail(f"unexpected character '{text[pos]}'", pos)
            if m.lastgroup not in ("ws", "comment"):
                self.tokens.append((m.lastgroup, m.group(), pos))
            pos = m.end()
        self.i = 0

    # token helpers
    def fail(self, problem: str, pos: int | None = None) -> NoReturn:
        if pos is None:
            pos = self.tokens[self.i][2] if self.i < len(self.tokens) else len(self.text)
        raise OpeningHoursError(problem, self.text, pos)

    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def next(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            self.fail("unexpected end")
        self.i += 1
        return tok

    def at(self, kind: str, value: str | None = None, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok is not None and tok[0] == kind and (value is None or tok[1] == value)

    def at_word(self, words, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok is not None and tok[0] == "word" and tok[1] in words

    def describe_token(self) -> str:
        tok = self.peek()
        return "end of text" if tok is None else f"'{tok[1]}'"

    # grammar
    def parse(self) -> tuple[_Rule, ...]:
        if not self.tokens:
            self.fail("empty opening_hours", 0)
        rules = [self.rule(additional=False)]
        while self.peek() is not None:
            sep = self.next()
            if sep[1] not in (";", ","):
                hint = ""
                if sep[0] in ("num", "time"):
                    hint = " (times are written HH:MM, e.g. 08:30-12:00, several ranges separated by ',')"
                self.fail(f"expected ';' between rules, found '{sep[1]}'{hint}", sep[2])
            if self.peek() is None:  # tolerate a trailing ";"
                break
            rules.append(self.rule(additional=sep[1] == ","))
        return tuple(rules)

    def rule(self, additional: bool) -> _Rule:
        start = self.peek()
        if self.at("always"):
            self.next()
            return _Rule((), frozenset(), False, (), self.state(default=True), additional)
        dates = self.date_selector() if self.at_word(MONTHS) else ()
        weekdays, ph = self.weekday_selector() if self.at_word(WEEKDAYS + ("PH", "SH")) else (frozenset(), False)
        spans = self.time_selector() if self.at("time") else ()
        is_open = self.state(default=True)
        if self.peek() is start:
            tok = self.peek()
            if tok[0] == "word":
                self.fail(f"unknown word '{tok[1]}' (expected a weekday Mo..Su, PH, a month Jan..Dec, "
                          "a time range like 08:30-12:00, 24/7 or off)")
            if tok[0] == "num":
                self.fail(f"unexpected number '{tok[1]}' (years and week numbers are not supported; "
                          "times are written HH:MM)")
            self.fail(f"unexpected {self.describe_token()}")
        if spans and not is_open and additional:
            self.fail("an additional rule (after ',') cannot close time ranges; use ';'")
        return _Rule(dates, weekdays, ph, spans, is_open, additional)

    def state(self, default: bool) -> bool:
        if self.at_word(("off", "closed")):
            self.next()
            return False
        if self.at_word(("open",)):
            self.next()
            return True
        if self.at_word(("unknown",)):
            self.fail("state 'unknown' is not supported")
        return default

    def date_selector(self) -> tuple[DateRange, ...]:
        ranges = [self.date_range()]
        while self.at("punct", ",") and self.at_word(MONTHS, offset=1):
            self.next()
            ranges.append(self.date_range())
        return tuple(ranges)

    def month_day(self) -> tuple[int, int | None]:
        month = MONTHS.index(self.next()[1]) + 1
        day = None
        if self.at("num"):
            tok = self.next()
            day = int(tok[1])
            if not 1 <= day <= 31:
                self.fail(f"day of month {day} out of range 1..31", tok[2])
        return month, day

    def date_range(self) -> DateRange:
        month, day = self.month_day()
        start = (month, day or 1)
        end = (month, day or 31)
        if self.at("punct", "-") and (self.at_word(MONTHS, offset=1) or self.at("num", offset=1)):
            self.next()
            if self.at("num"):  # "Dec 24-26"
                if day is None:
                    self.fail("a day range needs a start day, e.g. 'Dec 24-26'")
                tok = self.next()
                end = (month, int(tok[1]))
                if not 1 <= end[1] <= 31:
                    self.fail(f"day of month {end[1]} out of range 1..31", tok[2])
            else:
                m2, d2 = self.month_day()
                end = (m2, d2 or 31)
        return start, end

    def weekday_selector(self) -> tuple[frozenset[int], bool]:
        days: set[int] = set()
        ph = False
        while True:
            tok = self.next()
            if tok[1] == "SH":
                self.fail("school holidays 'SH' are not supported", tok[2])
            if tok[1] == "PH":
                ph = True
            else:
                first = WEEKDAYS.index(tok[1])
                if self.at("punct", "["):
                    self.fail("nth weekday of the month (e.g. 'Sa[1]') is not supported")
                if self.at("punct", "-") and self.at_word(WEEKDAYS, offset=1):
                    self.next()
                    last = WEEKDAYS.index(self.next()[1])
                    days.update((first + k) % 7 for k in range((last - first) % 7 + 1))
                elif self.at("punct", "-"):
                    self.next()
                    self.fail(f"expected a weekday after '-', found {self.describe_token()}")
                else:
                    days.add(first)
            if self.at("punct", ",") and self.at_word(WEEKDAYS + ("PH", "SH"), offset=1):
                self.next()
                continue
            return frozenset(days), ph

    def clock(self, tok: tuple[str, str, int], max_hour: int) -> int:
        hours, minutes = (int(x) for x in tok[1].split(":"))
        if minutes > 59 or hours > max_hour:
            self.fail(f"invalid time '{tok[1]}'", tok[2])
        return hours * 60 + minutes

    def time_selector(self) -> tuple[Span, ...]:
        spans = []
        while True:
            tok = self.next()
            start = self.clock(tok, 23)
            if not self.at("punct", "-"):
                if self.at("punct", "+"):
                    self.fail("open-ended times ('10:00+') are not supported")
                self.fail(f"expected '-' after '{tok[1]}', found {self.describe_token()}")
            self.next()
            if not self.at("time"):
                self.fail(f"expected an end time after '{tok[1]}-', found {self.describe_token()}")
            end_tok = self.next()
            end = self.clock(end_tok, 48)
            if end == start:
                self.fail(f"empty time range '{tok[1]}-{end_tok[1]}'", tok[2])
            if end < start:
                end += DAY_MIN  # past midnight
            if end - start > DAY_MIN:
                self.fail(f"time range '{tok[1]}-{end_tok[1]}' is longer than 24 hours", tok[2])
            spans.append((start, end))
            if self.at("punct", ",") and self.at("time", offset=1):
                self.next()
                continue
            return tuple(spans)


# ----------------------------------------------------------------------------------------------- span algebra
def _merge(spans: list[Span]) -> list[Span]:
    """Sorted union of spans, touching ones joined."""
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _subtract(spans: list[Span], removed: tuple[Span, ...]) -> list[Span]:
    out = list(spans)
    for rs, re_ in removed:
        nxt = []
        for s, e in out:
            if re_ <= s or rs >= e:
                nxt.append((s, e))
                continue
            if s < rs:
                nxt.append((s, rs))
            if re_ < e:
                nxt.append((re_, e))
        out = nxt
    return out


def _apply(spans: list[Span], rule: _Rule) -> list[Span]:
    """Day spans after ``rule`` (which selects the day) is applied."""
    if rule.is_open:
        body = list(rule.spans) or [(0, DAY_MIN)]
        return spans + body if rule.additional else body
    return _subtract(spans, rule.spans) if rule.spans else []


def _hhmm(minutes: int) -> str:
    if minutes > DAY_MIN:
        minutes -= DAY_MIN
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ------------------------------------------------------------------------------------------------ public API
Interval = tuple[datetime, datetime]


class OpeningHours:
    """A parsed ``opening_hours`` value. Times are local wall-clock: pass naive datetimes, or aware ones
    (results then carry the same tzinfo)."""

    def __init__(self, text: str, rules: tuple[_Rule, ...]) -> None:
        self.text = text
        self.rules = rules
        self._days: dict[date, list[Span]] = {}

    @classmethod
    def parse(cls, text: str) -> "OpeningHours":
        """Parse ``text``; raises :class:`OpeningHoursError` (a ``ValueError``) naming the problem and position."""
        if not isinstance(text, str):
            raise OpeningHoursError(f"expected a string, got {type(text).__name__}", str(text), 0)
        return cls(text.strip(), _Parser(text.strip()).parse())

    def __repr__(self) -> str:
        return f"OpeningHours({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpeningHours) and self.rules == other.rules

    def __hash__(self) -> int:
        return hash(self.rules)

    # evaluation
    def day_spans(self, day: date) -> list[Span]:
        """Opening spans (minutes since ``day``'s midnight, end may pass 24:00) of the rules selecting ``day``."""
        cached = self._days.get(day)
        if cached is None:
            spans: list[Span] = []
            for rule in self.rules:
                if rule.matches(day):
                    spans = _apply(spans, rule)
            if len(self._days) > 4096:  # long-running servers: keep the cache bounded
                self._days.clear()
            cached = self._days[day] = _merge(spans)
        return cached

    def _datetimes(self, day: date, tz: tzinfo | None) -> list[Interval]:
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        return [(midnight + timedelta(minutes=s), midnight + timedelta(minutes=e)) for s, e in self.day_spans(day)]

    def _intervals_between(self, first: date, last: date, tz: tzinfo | None) -> list[Interval]:
        """Merged intervals of the days ``first``..``last`` (the last ones may end after ``last``)."""
        out: list[list[datetime]] = []
        day = first
        while day <= last:
            for s, e in self._datetimes(day, tz):
                if out and s <= out[-1][1]:
                    out[-1][1] = max(out[-1][1], e)
                else:
                    out.append([s, e])
            day += timedelta(days=1)
        return [(s, e) for s, e in out]

    def intervals_on(self, day: date, tz: tzinfo | None = None) -> list[Interval]:
        """Sorted, merged open intervals overlapping ``day`` (not clipped: ``Fr 22:00-02:00`` gives
        Fri 22:00 -> Sat 02:00 for Friday *and* for Saturday)."""
        if isinstance(day, datetime):
            tz, day = day.tzinfo, day.date()
        midnight = datetime.combine(day, time(0), tzinfo=tz)
        spans = self._intervals_between(day - timedelta(days=1), day, tz)
        return [(s, e) for s, e in spans if e > midnight]

    def is_open(self, at: datetime) -> bool:
        """True if open at the instant ``at`` (an interval includes its start, excludes its end)."""
        m = at.hour * 60 + at.minute + at.second / 60 + at.microsecond / 6e7
        day = at.date()
        if any(s <= m < e for s, e in self.day_spans(day)):
            return True
        return any(s <= m + DAY_MIN < e for s, e in self.day_spans(day - timedelta(days=1)))

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
    def describe(self, lang: str = "fr") -> str:
        """Human-readable summary, e.g. ``lun.-ven. 08:30–12:00, 13:30–17:00; fermé les jours fériés``."""
        lang = "en" if lang == "en" else "fr"
        words = _WORDS[lang]
        week = [self._weekday_spans(w) for w in range(7)]
        if all(s == [(0, DAY_MIN)] for s in week) and not any(r.ph or r.dates for r in self.rules):
            return words["always"]
        parts = []
        groups: dict[tuple[Span, ...], list[int]] = {}
        for w, spans in enumerate(week):
            if spans:
                groups.setdefault(tuple(spans), []).append(w)
        for spans, days in sorted(groups.items(), key=lambda kv: kv[1][0]):
            parts.append(f"{_days_text(days, lang)} {_spans_text(spans, lang)}")
        if not parts:
            parts.append(words["closed"])
        ph_rules = [r for r in self.rules if r.ph and not r.dates]
        if ph_rules:
            spans = []
            for r in ph_rules:
                spans = _apply(spans, r)
            parts.append(f"{words['ph']} {_spans_text(tuple(_merge(spans)), lang)}" if spans else words["ph_off"])
        for r in self.rules:
            if r.dates:
                parts.append(_rule_text(r, lang))
        return "; ".join(parts)

    def _weekday_spans(self, weekday: int) -> list[Span]:
        """Spans of a typical (non-holiday) ``weekday``, ignoring date-restricted rules."""
        spans: list[Span] = []
        for r in self.rules:
            if not r.dates and (weekday in r.weekdays or (not r.weekdays and not r.ph)):
                spans = _apply(spans, r)
        return _merge(spans)


def _days_text(days: list[int], lang: str) -> str:
    names = _DAY_NAMES[lang]
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
        return "24h/24" if lang == "fr" else "all day"
    return ", ".join(f"{_hhmm(s)}–{_hhmm(e)}" for s, e in spans)


def _rule_text(rule: _Rule, lang: str) -> str:
    months = _MONTH_NAMES[lang]

    def md(m: int, d: int, whole_month: bool) -> str:
        if whole_month:
            return months[m - 1]
        return f"{d} {months[m - 1]}" if lang == "fr" else f"{months[m - 1]} {d}"

    dates = []
    for (m1, d1), (m2, d2) in rule.dates:
        whole = d1 == 1 and d2 == 31
        a, b = md(m1, d1, whole), md(m2, d2, whole)
        dates.append(a if a == b else f"{a}-{b}")
    text = ", ".join(dates)
    if rule.weekdays:
        text += " " + _days_text(sorted(rule.weekdays), lang)
    if rule.ph:
        text += " " + _WORDS[lang]["ph"]
    if rule.is_open:
        return f"{text} {_spans_text(rule.spans or ((0, DAY_MIN),), lang)}"
    closed = _WORDS[lang]["closed"]
    return f"{text} {closed} {_spans_text(rule.spans, lang)}" if rule.spans else f"{text} {closed}"
