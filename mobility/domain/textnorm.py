"""Text normalisation for matching French place names: case, accents, punctuation, abbreviations, stop-words."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: abbreviations common in French addresses and place names -> full word
ABBREVIATIONS: dict[str, str] = {
    "st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes",
    "r": "rue", "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard", "boul": "boulevard",
    "pl": "place", "rte": "route", "chem": "chemin", "imp": "impasse", "all": "allee", "sq": "square",
    "fg": "faubourg", "fbg": "faubourg", "res": "residence", "qu": "quai", "crs": "cours", "pass": "passage",
    "gal": "general", "mal": "marechal", "pdt": "president", "dr": "docteur", "cdt": "commandant",
}

#: words that carry no meaning for matching ("rue de l'Église" == "rue église")
STOP_WORDS: frozenset[str] = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "au", "aux"})

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Lower-case, strip accents, turn every non-alphanumeric run into one space."""
    text = unicodedata.normalize("NFKD", str(text).translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return _NON_ALNUM.sub(" ", text).strip()


def tokens(text: str, *, expand: bool = True, drop_stop_words: bool = True) -> list[str]:
    """Normalised words of ``text``, abbreviations expanded and stop-words removed (order kept)."""
    out = []
    for word in normalize(text).split():
        if expand:
            word = ABBREVIATIONS.get(word, word)
        if drop_stop_words and word in STOP_WORDS:
            continue
        out.append(word)
    return out


def key(text: str) -> str:
    """A comparison key: the normalised tokens joined by one space ("St-Omer" -> "saint omer")."""
    return " ".join(tokens(text))


def damerau_levenshtein(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment edit distance; returns ``limit + 1`` as soon as it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]
