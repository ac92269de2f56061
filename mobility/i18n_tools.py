"""Maintenance of the gettext catalogs (used by ``scripts/i18n.py`` and ``tests/test_i18n.py``).

* :func:`extract` -- every message key the sources use, found by Babel's extractors: calls of ``t``, ``_``,
  ``N_`` and of the error classes in ``mobility/**.py``, ``t``/``ot`` in the Jinja templates (``ot`` is the
  observatory's translator: its keys get the prefix ``obs_``) and ``tr`` in the page scripts.
* :func:`check` -- keys missing from a catalog, untranslated, or present in one language only.
* :func:`add` -- a message in every language at once (new key, or a changed sentence).
* :func:`compile_all` -- ``.po`` -> ``.mo`` (what :mod:`mobility.i18n` reads).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from mobility.i18n import DOMAIN, LANGS, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[1]
#: a message key ("walk_to", "err_param_empty"); English sentences given to the error classes are not keys
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
#: functions whose first argument (or the argument numbered here, from 1) is a message key
PY_KEYWORDS: dict[str, int | None] = {
    **{name: None for name in ("t", "_", "N_", "Msg", "message", "MobilityError", "InputError", "NotFoundError",
                               "NoRouteError", "DataError", "DeadlineExceeded", "LoadingError")},
    "_say": 2, "tr": None}


def extract_python_keys(fileobj, keywords, comment_tags, options):
    """Babel extraction method for Python read from the syntax tree: calls ``name("key", ...)`` of one of
    ``keywords`` (a plain or dotted name) with a literal first argument. (Babel's token-based extractor takes
    subscripts such as ``t["route_id"]`` for calls and warns on every f-string given to an error class.)"""
    import ast

    tree = ast.parse(fileobj.read().decode("utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        f = node.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
        if name not in PY_KEYWORDS:
            continue
        spec = PY_KEYWORDS[name]
        index = (spec[0] if isinstance(spec, tuple) else spec or 1) - 1
        arg = node.args[index] if len(node.args) > index else None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            yield node.lineno, "_", arg.value, []  # "_": a keyword whose message is the first argument


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str):
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def _keys(found, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for filename, _lineno, msg, _comments, _context in found:
        msg = msg[0] if isinstance(msg, tuple) else msg
        if msg and KEY.match(msg):
            out.setdefault(prefix + msg, filename)
    return out


def extract(root: Path = ROOT) -> dict[str, str]:
    """Message key -> a file that uses it."""
    keys: dict[str, str] = {}
    if (root / "mobility").is_dir():
        python = [("**.py", "mobility.i18n_tools:extract_python_keys")]
        keys.update(_keys(extract_from_dir(str(root / "mobility"), python, keywords={"_": None})))
    web = root / "web"
    if (web / "templates").is_dir():
        jinja = [("**.html", "jinja2.ext:babel_extract")]
        keys.update(_keys(extract_from_dir(str(web / "templates"), jinja, keywords={"t": None})))
        keys.update(_keys(extract_from_dir(str(web / "templates"), jinja, keywords={"ot": None}), "obs_"))
    if (web / "static" / "js").is_dir():
        keys.update(_keys(extract_from_dir(str(web / "static" / "js"), [("**.js", "javascript")],
                                           keywords={"tr": None})))
    return keys


def check(root: Path = ROOT) -> list[str]:
    """Problems of the catalogs, one line each (empty when every key is translated in every language)."""
    problems = []
    used = extract(root)
    catalogs = {lang: {m.id: m.string for m in read_catalog(lang) if m.id} for lang in LANGS}
    for lang, cat in catalogs.items():
        for key, where in sorted(used.items()):
            if key not in cat:
                problems.append(f"{lang}: '{key}' (used in {where}) is missing from {po_path(lang).name}")
        for key, text in sorted(cat.items()):
            if not text:
                problems.append(f"{lang}: '{key}' is not translated")
            for other, ocat in catalogs.items():
                if other != lang and key not in ocat:
                    problems.append(f"{lang}: '{key}' is missing from the {other} catalog")
    return problems


def compiled(lang: str) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, read_catalog(lang), use_fuzzy=False)
    return buf.getvalue()


def compile_all() -> list[Path]:
    """Writes ``mobility.mo`` beside each ``mobility.po``; the paths written."""
    out = []
    for lang in LANGS:
        path = po_path(lang).with_suffix(".mo")
        path.write_bytes(compiled(lang))
        out.append(path)
    return out


def write_catalog(lang: str, cat) -> None:
    with po_path(lang).open("wb") as f:
        write_po(f, cat, width=0, no_location=True, omit_header=False)


def add(messages: dict[str, dict[str, str]]) -> None:
    """``{key: {"fr": ..., "en": ...}}`` into the .po files (a key already there gets the new sentences), then
    compiles them."""
    for lang in LANGS:
        cat = read_catalog(lang)
        for key, texts in messages.items():
            if key in cat:
                cat[key].string = texts[lang]
            else:
                cat.add(key, texts[lang])
        write_catalog(lang, cat)
    compile_all()
