"""Words of the web pages in French (default) and English, and the plain-words view of itineraries."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from mobility.domain.dates import DAY_NAMES, day_text

STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "site_title": "Centrale de mobilité de l'Audomarois",
        "skip": "Aller au contenu",
        "nav_resident": "Itinéraire",
        "nav_operator": "Console opérateur",
        "nav_planner": "Planificateur",
        "switch_lang": "English",
        "switch_lang_label": "Switch to English",
        "resident_title": "Aller à un service public en bus ou en transport à la demande",
        "resident_intro": "Indiquez d'où vous partez et le service où vous allez. Nous cherchons les bus et le transport à la demande (TAD) qui vous y emmènent.",
        "from": "Départ (votre adresse ou commune)",
        "from_hint": "Par exemple : 12 rue de l'Église, Thérouanne",
        "to": "Destination",
        "to_hint": "Un type de service (le plus proche est choisi) ou un lieu précis",
        "to_category": "Type de service",
        "to_site": "Lieu précis",
        "choose": "— choisir —",
        "sites_group": "Lieux",
        "categories_group": "Types de service",
        "date": "Date",
        "time": "Heure",
        "when": "Quand ?",
        "depart_at": "Partir à",
        "arrive_by": "Arriver pour",
        "options": "Options",
        "wheelchair": "Fauteuil roulant / accès sans marche",
        "max_walk": "Marche à pied au plus (mètres)",
        "allow_tad": "Accepter le transport à la demande (TAD, sur réservation)",
        "return_after": "Prévoir le retour après (minutes sur place, vide = pas de retour)",
        "submit": "Chercher un itinéraire",
        "results": "Résultats",
        "no_result": "Aucun itinéraire trouvé.",
        "option": "Option",
        "leave": "Départ",
        "arrive": "Arrivée",
        "duration": "Durée",
        "changes": "Correspondances",
        "walking": "Marche",
        "wait": "Attente",
        "fastest": "Le plus rapide",
        "fewest_changes": "Le moins de correspondances",
        "least_walking": "Le moins de marche",
        "booking_needed": "Réservation obligatoire",
        "book_by": "Réserver avant",
        "call": "Appeler le",
        "return_trip": "Retour",
        "map": "Carte",
        "map_label": "Carte du trajet et du territoire",
        "map_no_js": "La carte a besoin de JavaScript ; l'itinéraire ci-dessus suffit pour voyager.",
        "service": "Service",
        "address": "Adresse",
        "opening_hours": "Horaires",
        "phone": "Téléphone",
        "notes": "Remarques",
        "print": "Imprimer l'itinéraire",
        "new_search": "Nouvelle recherche",
        "operator_title": "Console opérateur",
        "operator_help": "Entrée lance la recherche. Flèches et Entrée choisissent une suggestion, Échap la ferme. Alt+A : adresse, Alt+I : imprimer, Alt+R : demandes récentes.",
        "recent": "Demandes récentes",
        "recent_none": "Aucune demande dans cette session.",
        "replan": "Relancer",
        "max_transfers": "Correspondances au plus",
        "walk_speed": "Vitesse de marche (m/s)",
        "booked_at": "Réservé le (pour le TAD)",
        "search_service": "Service ou lieu",
        "print_title": "Votre itinéraire",
        "print_footer": "Centrale de mobilité de l'Audomarois — horaires indicatifs, vérifiez avant de partir.",
        "planner_title": "Planificateur : temps d'accès aux services",
        "planner_map_label": "Carte du territoire en Lambert-93 : communes, zones TAD, lignes, services et temps d'accès",
        "map_source": "Données : réseau reconstruit, limites IGN Admin Express, populations INSEE · projection Lambert-93 (EPSG:2154)",
        "planner_coming": "Les cartes de temps d'accès (isochrones) arrivent bientôt : le module d'analyse n'est pas encore disponible. La carte montre le territoire.",
        "planner_site": "Service ou type de service",
        "planner_window": "Fenêtre (minutes)",
        "planner_submit": "Calculer",
        "loading": "Chargement des données, réessayez dans quelques secondes.",
        "error": "Erreur",
        "back": "Retour à l'accueil",
        "walk_to": "Marcher {dist} ({dur}) jusqu'à {place}",
        "ride": "Prendre {mode} {line}{headsign} à {place}",
        "get_off": "Descendre à {place} ({stops})",
        "direction": " direction {h}",
        "stops_n": "{n} arrêts",
        "stop_1": "1 arrêt",
        "booking_text": "Transport à la demande : réservez par téléphone au {phone}{deadline}.",
        "booking_deadline": " avant le {when}",
        "min": "min",
        "to_home": "Vers le domicile",
        "layers": "Couches",
        "legend_line": "Trajet",
        "open_on_arrival": "Ouvert à l'arrivée",
        "closed_on_arrival": "Fermé à l'arrivée",
        "travel_date": "Date du trajet",
        "asked_date": "demandé : {day}",
        "day_changed": "Attention : autre jour que celui demandé",
        "understood": "Compris",
        "understood_from": "Départ",
        "understood_to": "Destination",
        "corrected_from": "vous avez tapé « {text} »",
        "why_site": "Pourquoi ce site",
        "alternatives": "Autres sites",
        "at_arrival": "À l'arrivée",
        "long_wait": "Attente longue : {d} à {place}",
        "tag_after_opening": "Arrive après l'ouverture",
        "tag_next_day": "Jour suivant",
        "return_options": "Choix du retour",
        "return_first": "Premier retour",
        "return_least_wait": "Le moins d'attente",
        "return_last": "Dernier retour",
    },
    "en": {
        "site_title": "Audomarois mobility centre",
        "skip": "Skip to content",
        "nav_resident": "Journey",
        "nav_operator": "Operator console",
        "nav_planner": "Planner",
        "switch_lang": "Français",
        "switch_lang_label": "Passer en français",
        "resident_title": "Get to a public service by bus or on-demand transport",
        "resident_intro": "Tell us where you start from and which service you need. We look for the buses and the on-demand transport (TAD) that take you there.",
        "from": "From (your address or town)",
        "from_hint": "For example: 12 rue de l'Église, Thérouanne",
        "to": "Destination",
        "to_hint": "A kind of service (the nearest is chosen) or a precise place",
        "to_category": "Kind of service",
        "to_site": "Precise place",
        "choose": "— choose —",
        "sites_group": "Places",
        "categories_group": "Kinds of service",
        "date": "Date",
        "time": "Time",
        "when": "When?",
        "depart_at": "Leave at",
        "arrive_by": "Arrive by",
        "options": "Options",
        "wheelchair": "Wheelchair / step-free access",
        "max_walk": "Walk at most (metres)",
        "allow_tad": "Accept on-demand transport (TAD, booking needed)",
        "return_after": "Plan the way back after (minutes there, empty = no return)",
        "submit": "Find a journey",
        "results": "Results",
        "no_result": "No journey found.",
        "option": "Option",
        "leave": "Leave",
        "arrive": "Arrive",
        "duration": "Duration",
        "changes": "Changes",
        "walking": "Walking",
        "wait": "Waiting",
        "fastest": "Fastest",
        "fewest_changes": "Fewest changes",
        "least_walking": "Least walking",
        "booking_needed": "Booking required",
        "book_by": "Book before",
        "call": "Call",
        "return_trip": "Way back",
        "map": "Map",
        "map_label": "Map of the journey and the area",
        "map_no_js": "The map needs JavaScript; the journey above is enough to travel.",
        "service": "Service",
        "address": "Address",
        "opening_hours": "Opening hours",
        "phone": "Phone",
        "notes": "Notes",
        "print": "Print the journey",
        "new_search": "New search",
        "operator_title": "Operator console",
        "operator_help": "Enter plans. Arrows and Enter pick a suggestion, Escape closes it. Alt+A: address, Alt+I: print, Alt+R: recent requests.",
        "recent": "Recent requests",
        "recent_none": "No request in this session yet.",
        "replan": "Plan again",
        "max_transfers": "Changes at most",
        "walk_speed": "Walking speed (m/s)",
        "booked_at": "Booked at (for TAD)",
        "search_service": "Service or place",
        "print_title": "Your journey",
        "print_footer": "Audomarois mobility centre — times are indicative, check before you leave.",
        "planner_title": "Planner: access times to services",
        "planner_map_label": "Map of the territory in Lambert-93: communes, TAD zones, lines, services and access times",
        "map_source": "Data: reconstructed network, IGN Admin Express boundaries, INSEE populations · Lambert-93 projection (EPSG:2154)",
        "planner_coming": "Access-time maps (isochrones) are coming soon: the analysis module is not available yet. The map shows the territory.",
        "planner_site": "Service or kind of service",
        "planner_window": "Window (minutes)",
        "planner_submit": "Compute",
        "loading": "Loading the data, try again in a few seconds.",
        "error": "Error",
        "back": "Back to the home page",
        "walk_to": "Walk {dist} ({dur}) to {place}",
        "ride": "Take {mode} {line}{headsign} at {place}",
        "get_off": "Get off at {place} ({stops})",
        "direction": " towards {h}",
        "stops_n": "{n} stops",
        "stop_1": "1 stop",
        "booking_text": "On-demand transport: book by phone on {phone}{deadline}.",
        "booking_deadline": " before {when}",
        "min": "min",
        "to_home": "Back home",
        "layers": "Layers",
        "legend_line": "Journey",
        "open_on_arrival": "Open on arrival",
        "closed_on_arrival": "Closed on arrival",
        "travel_date": "Travel date",
        "asked_date": "asked: {day}",
        "day_changed": "Note: another day than the one asked",
        "understood": "Understood",
        "understood_from": "From",
        "understood_to": "To",
        "corrected_from": "you typed \u201c{text}\u201d",
        "why_site": "Why this site",
        "alternatives": "Other sites",
        "at_arrival": "On arrival",
        "long_wait": "Long wait: {d} at {place}",
        "tag_after_opening": "Arrives after the opening",
        "tag_next_day": "Next day",
        "return_options": "Choice of return",
        "return_first": "First return",
        "return_least_wait": "Least waiting",
        "return_last": "Last return",
    },
}

MODE_WORDS = {
    "fr": {"bus": "le bus", "coach": "le car", "rail": "le train", "tram": "le tram", "tad": "le transport à la demande"},
    "en": {"bus": "the bus", "coach": "the coach", "rail": "the train", "tram": "the tram", "tad": "the on-demand bus"},
}

def translator(lang: str, strings: dict[str, dict[str, str]] | None = None) -> Callable[..., str]:
    """``t(key, **fmt)`` in ``lang`` (falls back to French, then to the key), from ``strings`` (default: the
    pages' table; a blueprint may bring its own)."""
    strings = STRINGS if strings is None else strings
    table = strings.get(lang, strings["fr"])

    def t(key: str, **fmt: Any) -> str:
        s = table.get(key) or strings["fr"].get(key) or key
        return s.format(**fmt) if fmt else s

    return t


def hm(iso: str | None) -> str:
    """'2026-12-01T08:05:00+01:00' -> '08:05'."""
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).strftime("%H:%M")


def day_label(iso: str | None, lang: str) -> str:
    if not iso:
        return ""
    d = dt.datetime.fromisoformat(iso)
    return day_text(d.date(), lang) if lang in DAY_NAMES else d.date().isoformat()


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return ""
    m = int(round(float(seconds) / 60.0))
    if m < 1:
        return "< 1 min"
    return f"{m // 60} h {m % 60:02d}" if m >= 60 else f"{m} min"


def metres(m: float | None) -> str:
    if m is None:
        return ""
    m = float(m)
    return f"{m / 1000:.1f} km".replace(".", ",") if m >= 1000 else f"{int(round(m))} m"


def booking_text(booking: dict, lang: str) -> str:
    """Plain words for a TAD booking: who to call and by when."""
    t = translator(lang)
    if booking.get("instructions"):
        return str(booking["instructions"])
    deadline = booking.get("deadline")
    dl = t("booking_deadline", when=f"{day_label(deadline, lang)} {hm(deadline)}") if deadline else ""
    return t("booking_text", phone=booking.get("phone") or "?", deadline=dl)


def leg_lines(leg: dict, lang: str) -> list[str]:
    """One or two sentences describing a leg."""
    t = translator(lang)
    if leg["mode"] == "walk":
        return [t("walk_to", dist=metres(leg.get("distance_m")), dur=minutes(leg.get("duration_s")),
                  place=leg["to"]["name"])]
    route = leg.get("route") or {}
    line = route.get("short_name") or route.get("long_name") or ""
    head = t("direction", h=leg["headsign"]) if leg.get("headsign") else ""
    mode = MODE_WORDS.get(lang, MODE_WORDS["fr"]).get(leg["mode"], leg["mode"])
    n = int(leg.get("intermediate_stops", 0)) + 1
    stops = t("stop_1") if n == 1 else t("stops_n", n=n)
    return [t("ride", mode=mode, line=line, headsign=head, place=leg["from"]["name"]),
            t("get_off", place=leg["to"]["name"], stops=stops)]


def label_itineraries(its: list[dict]) -> list[list[str]]:
    """For each itinerary, the comparison labels it wins: fastest, fewest_changes, least_walking."""
    labels: list[list[str]] = [[] for _ in its]
    if not its:
        return labels
    crits = [("fastest", lambda it: it["duration_s"]), ("fewest_changes", lambda it: it["transfers"]),
             ("least_walking", lambda it: it["walk_m"])]
    for name, f in crits:
        best = min(f(it) for it in its)
        winners = [i for i, it in enumerate(its) if f(it) == best]
        if len(winners) < len(its) or len(its) == 1:
            for i in winners[:1] if name == "fastest" else winners:
                labels[i].append(name)
    return labels
