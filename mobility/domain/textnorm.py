"""Text normalisation for matching French place names: case, accents, punctuation, abbreviations, stop-words."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz.distance import OSA

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
    """Optimal-string-alignment edit distance (rapidfuzz's OSA); ``limit + 1`` when it exceeds ``limit``."""
    return OSA.distance(a, b, score_cutoff=limit)
