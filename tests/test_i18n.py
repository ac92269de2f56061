"""The one translation system (mobility.i18n): every message key used in the code, the templates and the page
scripts is translated in French and English, the compiled catalogs match their .po files, and dates and
numbers follow the locale."""

from __future__ import annotations

import datetime as dt

import pytest

from mobility import i18n, i18n_tools


def test_every_used_key_is_translated_in_every_language():
    problems = i18n_tools.check()
    assert not problems, "\n".join(problems[:40]) + "\n(edit mobility/locale/*/LC_MESSAGES/mobility.po, " \
                                                    "then python scripts/i18n.py compile)"


def test_extraction_finds_the_keys_of_templates_code_and_scripts():
    keys = i18n_tools.extract()
    assert "site_title" in keys and keys["site_title"].endswith(".html")  # t('site_title') in base.html
    assert "obs_login_title" in keys  # ot('login_title') in observatory_login.html
    assert "walk_to" in keys  # t("walk_to", ...) in mobility/interfaces/web/i18n.py


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_compiled_catalog_is_up_to_date(lang):
    mo = i18n_tools.po_path(lang).with_suffix(".mo")
    assert mo.is_file() and mo.read_bytes() == i18n_tools.compiled(lang), \
        f"{mo} is stale: run python scripts/i18n.py compile"


def test_translator_falls_back_to_french_then_to_the_key():
    assert i18n.translator("en")("site_title") == "Audomarois mobility centre"
    assert i18n.translator("fr")("site_title") == "Centrale de mobilité de l'Audomarois"
    assert i18n.translator("de")("site_title") == "Centrale de mobilité de l'Audomarois"
    assert i18n.translator("en")("no_such_key_anywhere") == "no_such_key_anywhere"
    assert i18n.translator("en")("stops_n", n=4) == "4 stops"


def test_language_of_the_locale_and_of_accept_language():
    assert i18n.lang_from_environment({"LANG": "en_GB.UTF-8"}) == "en"
    assert i18n.lang_from_environment({"LC_ALL": "fr_FR.UTF-8", "LANG": "en_US.UTF-8"}) == "fr"
    assert i18n.lang_from_environment({"LANG": "de_DE.UTF-8"}) == "fr"
    assert i18n.lang_from_environment({"LANG": "C.UTF-8"}) == "fr"
    assert i18n.lang_from_environment({}) == "fr"
    assert i18n.lang_from_accept("en-GB,en;q=0.9,fr;q=0.8") == "en"
    assert i18n.lang_from_accept("de-DE, fr;q=0.5, en;q=0.4") == "fr"
    assert i18n.lang_from_accept("de") is None and i18n.lang_from_accept(None) is None


def test_numbers_dates_and_times_follow_the_locale():
    assert i18n.distance(1500, "fr") == "1,5 km" and i18n.distance(1500, "en") == "1.5 km"
    assert i18n.distance(850.4, "en") == "850 m"
    assert i18n.day_text(dt.date(2026, 12, 2), "fr") == "mercredi 2 décembre 2026"
    assert i18n.day_text(dt.date(2026, 12, 2), "en") == "Wednesday 2 December 2026"
    assert i18n.weekday_names("en")[0] == "Monday" and i18n.month_name(dt.date(2026, 8, 1), "fr") == "août"
    paris = dt.timezone(dt.timedelta(hours=1))
    assert i18n.clock(dt.datetime(2026, 12, 1, 8, 5, tzinfo=paris), "en") == "08:05"  # not moved to another zone
    assert i18n.number(1234.5, "en", 1) == "1,234.5"
