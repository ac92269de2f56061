"""The vocabulary of public-service categories: keys, French and English labels, synonyms, and free-text resolution."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from mobility.errors import NotFoundError
from mobility.i18n import PerLang
from mobility.domain.textnorm import key as text_key


@dataclass(frozen=True)
class Category:
    """One kind of public service (``key`` is the identifier used in data files and the API)."""

    key: str
    label_fr: str
    label_en: str
    synonyms: tuple[str, ...] = ()

    def label(self, lang: str = "fr") -> str:
        return self.label_en if lang == "en" else self.label_fr


_CATEGORY_LIST: tuple[Category, ...] = (
    Category("france_services", "France Services", "France Services (public service centre)",
             ("france services", "maison france services", "espace france services", "mfs",
              "france service", "one stop public service")),
    Category("maison_services_publics", "Maison de services au public", "Public services house",
             ("maison de services au public", "maison des services publics", "maison des services au public",
              "msap", "maison de service public", "public services house")),
    Category("caf", "Caisse d'allocations familiales (CAF)", "Family allowance office (CAF)",
             ("caf", "caisse d allocations familiales", "allocations familiales", "allocation familiale",
              "family allowance", "family allowances", "family benefits", "child benefit", "housing benefit",
              "apl", "rsa", "prime d activite")),
    Category("cpam", "Assurance maladie (CPAM)", "Health insurance office (CPAM)",
             ("cpam", "assurance maladie", "caisse primaire d assurance maladie", "securite sociale", "secu",
              "ameli", "carte vitale", "health insurance", "social security")),
    Category("france_travail", "France Travail (ex Pôle emploi)", "France Travail job centre (formerly Pôle emploi)",
             ("france travail", "pole emploi", "anpe", "agence pour l emploi", "job centre", "job center",
              "employment office", "employment agency", "unemployment office")),
    Category("pmi", "Protection maternelle et infantile (PMI)", "Mother and child health centre (PMI)",
             ("pmi", "protection maternelle et infantile", "protection maternelle infantile",
              "maternal and child health", "mother and child health", "child health centre")),
    Category("cias", "Centre intercommunal d'action sociale (CIAS)", "Social welfare office (CIAS)",
             ("cias", "ccas", "centre intercommunal d action sociale", "centre communal d action sociale",
              "action sociale", "aide sociale", "social welfare", "social services", "welfare office")),
    Category("relais_petite_enfance", "Relais petite enfance (RPE)", "Childminders' network (RPE)",
             ("relais petite enfance", "rpe", "ram", "relais assistantes maternelles", "relais assistants maternels",
              "assistante maternelle", "childminder", "childminders", "early childhood")),
    Category("point_information_jeunesse", "Point information jeunesse (PIJ)", "Youth information centre (PIJ)",
             ("point information jeunesse", "pij", "bij", "bureau information jeunesse", "information jeunesse",
              "youth information", "youth information centre")),
    Category("sous_prefecture", "Sous-préfecture", "Sub-prefecture",
             ("sous prefecture", "prefecture", "sub prefecture", "subprefecture", "titre de sejour",
              "residence permit")),
    Category("hospital", "Hôpital", "Hospital",
             ("hopital", "hopitaux", "centre hospitalier", "ch", "urgences", "clinique", "hospital", "emergency",
              "emergencies")),
    Category("mairie", "Mairie", "Town hall",
             ("mairie", "hotel de ville", "mairie annexe", "etat civil", "town hall", "city hall", "townhall")),
    Category("intercommunalite", "Intercommunalité", "Inter-municipal authority",
             ("intercommunalite", "communaute d agglomeration", "communaute de communes", "agglomeration",
              "capso", "ccpl", "pays de saint omer", "inter municipal", "intermunicipal",
              "inter municipal authority", "community of municipalities")),
    Category("gare", "Gare", "Railway station",
             ("gare", "gare sncf", "sncf", "ter", "train station", "railway station", "train", "station")),
    Category("tourisme", "Office de tourisme", "Tourist office",
             ("office de tourisme", "office du tourisme", "tourisme", "syndicat d initiative", "tourist office",
              "tourist information", "tourism", "visitor centre")),
    Category("maison_adolescents", "Maison des adolescents", "Teenagers' centre (Maison des adolescents)",
             ("maison des adolescents", "maison des ados", "mda", "adolescents", "ados", "teenagers",
              "teenager", "teen centre", "adolescent centre")),
)

#: every category by key, in display order
CATEGORIES: dict[str, Category] = {c.key: c for c in _CATEGORY_LIST}


def known_categories() -> list[str]:
    """The category keys, in display order."""
    return list(CATEGORIES)


def category_label(key: str, lang: str = "fr") -> str:
    """Human label of a category key in ``lang`` ("fr" or "en")."""
    return get_category(key).label(lang)


def get_category(key: str) -> Category:
    """The category with exactly this key, or ``NotFoundError``."""
    try:
        return CATEGORIES[key]
    except KeyError:
        raise NotFoundError("err_unknown_category", text=key, known=PerLang(_known_categories_text)) from None


def _known_categories_text(lang: str) -> str:
    """'france_services (France Services), caf (...)' in ``lang``: the list an unknown category's message gives."""
    return ", ".join(f"{c.key} ({c.label(lang)})" for c in _CATEGORY_LIST)


def unknown_category_message(text: str) -> str:
    known = ", ".join(f"{c.key} ({c.label_fr} / {c.label_en})" for c in _CATEGORY_LIST)
    return f"unknown service category '{text}'; known categories: {known}"


@lru_cache(maxsize=1)
def _phrase_index() -> dict[str, str]:
    """Normalised phrase (key, labels, synonyms) -> category key."""
    index: dict[str, str] = {}
    for cat in _CATEGORY_LIST:
        for phrase in (cat.key.replace("_", " "), cat.label_fr, cat.label_en, *cat.synonyms):
            index.setdefault(text_key(phrase), cat.key)
    # label_fr like "Caisse d'allocations familiales (CAF)" also maps without the parenthesis
    for cat in _CATEGORY_LIST:
        index.setdefault(text_key(cat.label_fr.split("(")[0]), cat.key)
        index.setdefault(text_key(cat.label_en.split("(")[0]), cat.key)
    index.pop("", None)
    return index


def match_category(text: str) -> str | None:
    """The category named exactly by ``text`` (key, label or synonym, any case/accents), else None."""
    if text in CATEGORIES:
        return text
    return _phrase_index().get(text_key(text))


def find_category(text: str) -> str | None:
    """The category mentioned anywhere in ``text`` ("I need the CAF" -> "caf"); the longest phrase wins."""
    exact = match_category(text)
    if exact:
        return exact
    words = text_key(text).split()
    best: tuple[int, str] | None = None
    index = _phrase_index()
    for i in range(len(words)):
        for j in range(len(words), i, -1):
            found = index.get(" ".join(words[i:j]))
            if found and (best is None or j - i > best[0]):
                best = (j - i, found)
                break
    return best[1] if best else None


def resolve_category(text: str) -> str:
    """Category key for free text in French or English; ``NotFoundError`` listing the known ones otherwise."""
    found = find_category(text)
    if found is None:
        raise NotFoundError("err_unknown_category", text=text, known=PerLang(_known_categories_text))
    return found
