"""Surveys of users' needs: the questionnaire from a data file, validation of answers, and their storage.

The questions live in ``data/observatory/survey.json`` (or ``MOBILITY_SURVEY``) so the observatory changes
them without code: each has a ``key``, a ``type`` (``choice``: one value, ``multi``: several, ``text``:
bounded free text) and labels in French and English. An answer is linked to its journal entry by the
entry's random ``ref``; one answer per entry.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from mobility.config import DATA_DIR
from mobility.errors import DataError, InputError, NotFoundError
from mobility.observatory.db import requests, survey_answers, survey_responses

DEFAULT_SURVEY_PATH = DATA_DIR / "observatory" / "survey.json"
TYPES = ("choice", "multi", "text")
MAX_TEXT = 500


class AlreadyAnswered(InputError):
    code = "already_answered"
    http_status = 409


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    label: Mapping[str, str]
    choices: tuple[tuple[str, Mapping[str, str]], ...] = ()
    max_length: int = 300

    def text(self, lang: str) -> str:
        return self.label.get(lang) or self.label.get("fr") or self.key

    def choice_label(self, value: str, lang: str) -> str:
        for v, label in self.choices:
            if v == value:
                return label.get(lang) or label.get("fr") or v
        return value


@dataclass(frozen=True)
class Survey:
    id: str
    title: Mapping[str, str]
    intro: Mapping[str, str]
    questions: tuple[Question, ...]

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def localized(self, lang: str) -> dict:
        """What a form shows in ``lang``: title, intro and questions with their choices."""
        def pick(labels: Mapping[str, str]) -> str:
            return labels.get(lang) or labels.get("fr") or ""

        return {"id": self.id, "title": pick(self.title), "intro": pick(self.intro),
                "questions": [{"key": q.key, "type": q.type, "label": q.text(lang), "max_length": q.max_length,
                               "choices": [{"value": v, "label": pick(lab)} for v, lab in q.choices]}
                              for q in self.questions]}

    def validate(self, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(question, value) rows of valid answers; InputError naming the question otherwise."""
        if not isinstance(answers, Mapping):
            raise InputError("err_survey_answers_object")
        rows: list[tuple[str, str]] = []
        for key, raw in answers.items():
            q = self.question(str(key))
            if q is None:
                raise InputError("err_survey_unknown_question", key=str(key)[:40])
            if raw is None or raw == "" or raw == []:
                continue
            if q.type == "text":
                if not isinstance(raw, str):
                    raise InputError("err_survey_text", key=q.key)
                value = " ".join(raw.split())
                if len(value) > q.max_length:
                    raise InputError("err_survey_too_long", key=q.key, n=q.max_length)
                value = redact(value)
                if value:
                    rows.append((q.key, value))
                continue
            values = raw if isinstance(raw, list) else [raw]
            if q.type == "choice" and len(values) != 1:
                raise InputError("err_survey_one_answer", key=q.key)
            allowed = {v for v, _ in q.choices}
            for v in dict.fromkeys(values):
                if not isinstance(v, str) or v not in allowed:
                    raise InputError("err_survey_choice", key=q.key, allowed=", ".join(sorted(allowed)))
                rows.append((q.key, v))
        if not rows:
            raise InputError("err_survey_empty")
        return rows


_EMAIL = re.compile(r"\S+@\S+")
_PHONE = re.compile(r"\+?\d(?:[\s./-]?\d){5,}")


def redact(text: str) -> str:
    """Free text without the e-mail addresses and phone numbers people sometimes leave in it."""
    return _PHONE.sub("[…]", _EMAIL.sub("[…]", text))


def load_survey(path: str | os.PathLike | None = None) -> Survey:
    """The questionnaire (default ``MOBILITY_SURVEY`` or the embedded one); DataError if malformed."""
    path = Path(path or os.environ.get("MOBILITY_SURVEY") or DEFAULT_SURVEY_PATH)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        questions = []
        for i, q in enumerate(data["questions"], 1):
            if q["type"] not in TYPES:
                raise ValueError(f"question {i}: type must be one of {', '.join(TYPES)}")
            choices = tuple((str(c["value"]), dict(c["label"])) for c in q.get("choices", ()))
            if q["type"] != "text" and not choices:
                raise ValueError(f"question {i}: a {q['type']} question needs choices")
            questions.append(Question(str(q["key"]), q["type"], dict(q["label"]), choices,
                                      min(int(q.get("max_length", 300)), MAX_TEXT)))
        if len({q.key for q in questions}) != len(questions):
            raise ValueError("two questions have the same key")
        return Survey(str(data["id"]), dict(data.get("title") or {}), dict(data.get("intro") or {}),
                      tuple(questions))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"cannot read the survey ({exc})", path=str(path)) from None


def record_answers(engine: Engine, survey: Survey, ref: str, answers: Mapping[str, Any],
                   at: dt.datetime | None = None) -> int:
    """Store one filled questionnaire for journal entry ``ref`` (under that entry's channel); the response id.

    NotFoundError when no journal entry has that ref, AlreadyAnswered when it was answered already.
    """
    if not isinstance(ref, str) or not (8 <= len(ref) <= 32) or not ref.isalnum():
        raise InputError("err_survey_ref")
    rows = survey.validate(answers)
    at = (at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    try:
        with engine.begin() as conn:
            entry = conn.execute(sa.select(requests.c.channel).where(requests.c.ref == ref)).first()
            if entry is None:
                raise NotFoundError("err_survey_ref_unknown")
            channel = entry.channel  # who answered is who asked: the resident, the operator or an API client
            rid = conn.execute(survey_responses.insert().values(request_ref=ref, created_at=at, channel=channel,
                                                                survey_id=survey.id)).inserted_primary_key[0]
            conn.execute(survey_answers.insert(), [{"response_id": rid, "question": q, "value": v} for q, v in rows])
    except IntegrityError:
        raise AlreadyAnswered("this request already has a survey answer") from None
    return int(rid)


def entry_exists(engine: Engine, ref: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.select(requests.c.id).where(requests.c.ref == ref)).first() is not None
