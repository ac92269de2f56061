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
        # --- operator console, print view, field errors, maps (issue 10, branch ui)
        "pickup_point": "Prise en charge",
        "pickup_stop": "arrêt {name} (point de rendez-vous)",
        "pickup_address": "à l'adresse : {name}",
        "pickup_commune": "{name} — adresse exacte à donner à la réservation",
        "pickup_zone": "zone {zone}",
        "pickup_time": "Heure",
        "pickup_around": "vers {hm}",
        "service_window": "créneau du service {start}–{end}",
        "drop_off": "Dépose",
        "connection": "correspondance {line} à {hm}",
        "what_to_say": "À dire au téléphone :",
        "say_text": "nom et téléphone du voyageur ; {day} ; prise en charge {pickup} vers {hm} ; dépose à {drop} pour {arr} ; nombre de personnes, fauteuil roulant ou non.",
        "booking_rule": "Règle du service :",
        "say_pickup_stop": "à l'arrêt {name}",
        "say_pickup_address": "à {name} (adresse exacte)",
        "at_time": "à {hm}",
        "tad_ride": "Transport à la demande ({service}) : prise en charge à {place}, dépose à {drop}",
        "other_times": "Autres horaires",
        "earlier": "Plus tôt",
        "later": "Plus tard",
        "options_count": "{n} options comparées côte à côte",
        "plan_to_site": "Planifier vers ce site",
        "operator_help_shift": "Alt+E : trajets plus tôt, Alt+L : trajets plus tard.",
        "outbound": "Aller",
        "centre_phone": "Téléphone",
        "print_map_alt": "Carte du trajet de {origin} à {destination}",
        "other_departures": "Autres départs possibles",
        "form_errors": "Le formulaire contient une erreur",
        "did_you_mean": "Choisissez un lieu",
        "err_empty": "Ce champ est obligatoire.",
        "err_empty_from": "Indiquez votre adresse ou votre commune de départ.",
        "err_empty_to": "Choisissez une destination : un type de service ou un lieu précis.",
        "err_empty_date": "Indiquez la date du trajet.",
        "err_empty_time": "Indiquez l'heure du trajet.",
        "err_not_found": "Nous ne trouvons pas « {text} ». Vérifiez l'orthographe ou ajoutez la commune.",
        "err_ambiguous": "Plusieurs lieux correspondent à « {text} ». Choisissez-en un ci-dessous ou ajoutez la commune.",
        "err_outside": "Ce lieu est en dehors de l'Audomarois, le territoire couvert par ce service.",
        "err_unknown_site": "Ce service n'est pas dans notre liste. Choisissez-en un dans la liste proposée.",
        "err_too_long": "Ce texte est trop long (200 caractères au plus).",
        "err_invalid": "Cette valeur n'est pas valable.",
        "err_invalid_date": "Indiquez une date valide.",
        "err_invalid_time": "Indiquez une heure valide (heures:minutes).",
        "err_invalid_max_walk_m": "Indiquez une distance de marche entre 0 et 20 000 mètres.",
        "err_invalid_return_after_min": "Indiquez un temps sur place entre 0 et 720 minutes, ou laissez vide.",
        "err_invalid_max_transfers": "Indiquez un nombre de correspondances entre 0 et 8.",
        "err_invalid_walk_speed_mps": "Indiquez une vitesse de marche entre 0,3 et 3 m/s.",
        "err_invalid_booked_at": "Indiquez une date et une heure de réservation valides.",
        "err_date_outside": "Les horaires connus vont du {start} au {end} : choisissez une date dans cette période.",
        "err_no_route": "Aucun itinéraire ne relie ces deux lieux ce jour-là ni les 7 jours suivants. Essayez d'accepter plus de marche ou le transport à la demande, ou appelez la centrale de mobilité.",
        "err_other": "Votre demande n'a pas pu être traitée.",
        "legend": "Légende",
        "iso_legend": "Temps de trajet (minutes)",
        "iso_band": "Bande",
        "iso_population": "Habitants",
        "iso_share": "Part de la population",
        "iso_table_caption": "Habitants par bande de temps de trajet vers le site",
        "downloads": "Télécharger",
        "download_geojson": "Isochrones (GeoJSON)",
        "download_gpkg": "Isochrones (GeoPackage, QGIS)",
        "download_png": "Carte (PNG, Lambert-93)",
        "download_csv": "Temps par carreau de 200 m (CSV)",
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
        # --- operator console, print view, field errors, maps (issue 10, branch ui)
        "pickup_point": "Pickup",
        "pickup_stop": "stop {name} (meeting point)",
        "pickup_address": "at the address: {name}",
        "pickup_commune": "{name} — give the exact address when booking",
        "pickup_zone": "zone {zone}",
        "pickup_time": "Time",
        "pickup_around": "around {hm}",
        "service_window": "service hours {start}–{end}",
        "drop_off": "Drop-off",
        "connection": "connection {line} at {hm}",
        "what_to_say": "What to say on the phone:",
        "say_text": "traveller's name and phone number; {day}; pickup {pickup} around {hm}; drop-off at {drop} by {arr}; number of people, wheelchair or not.",
        "booking_rule": "Service rule:",
        "say_pickup_stop": "at the stop {name}",
        "say_pickup_address": "at {name} (exact address)",
        "at_time": "at {hm}",
        "tad_ride": "On-demand transport ({service}): pickup at {place}, drop-off at {drop}",
        "other_times": "Other times",
        "earlier": "Earlier",
        "later": "Later",
        "options_count": "{n} options compared side by side",
        "plan_to_site": "Plan to this site",
        "operator_help_shift": "Alt+E: earlier trips, Alt+L: later trips.",
        "outbound": "Outbound",
        "centre_phone": "Phone",
        "print_map_alt": "Map of the journey from {origin} to {destination}",
        "other_departures": "Other possible departures",
        "form_errors": "The form has an error",
        "did_you_mean": "Pick a place",
        "err_empty": "This field is required.",
        "err_empty_from": "Enter your starting address or town.",
        "err_empty_to": "Choose a destination: a kind of service or a precise place.",
        "err_empty_date": "Enter the date of the journey.",
        "err_empty_time": "Enter the time of the journey.",
        "err_not_found": "We cannot find “{text}”. Check the spelling or add the town.",
        "err_ambiguous": "Several places match “{text}”. Pick one below or add the town.",
        "err_outside": "This place is outside the Audomarois, the area this service covers.",
        "err_unknown_site": "This service is not in our list. Pick one from the list offered.",
        "err_too_long": "This text is too long (200 characters at most).",
        "err_invalid": "This value is not valid.",
        "err_invalid_date": "Enter a valid date.",
        "err_invalid_time": "Enter a valid time (hours:minutes).",
        "err_invalid_max_walk_m": "Enter a walking distance between 0 and 20,000 metres.",
        "err_invalid_return_after_min": "Enter a time there between 0 and 720 minutes, or leave it empty.",
        "err_invalid_max_transfers": "Enter a number of changes between 0 and 8.",
        "err_invalid_walk_speed_mps": "Enter a walking speed between 0.3 and 3 m/s.",
        "err_invalid_booked_at": "Enter a valid booking date and time.",
        "err_date_outside": "The known timetables run from {start} to {end}: pick a date in that period.",
        "err_no_route": "No journey links these two places on that day nor the 7 following ones. Try accepting more walking or on-demand transport, or call the mobility centre.",
        "err_other": "Your request could not be handled.",
        "legend": "Legend",
        "iso_legend": "Travel time (minutes)",
        "iso_band": "Band",
        "iso_population": "Residents",
        "iso_share": "Share of the population",
        "iso_table_caption": "Residents by band of travel time to the site",
        "downloads": "Download",
        "download_geojson": "Isochrones (GeoJSON)",
        "download_gpkg": "Isochrones (GeoPackage, QGIS)",
        "download_png": "Map (PNG, Lambert-93)",
        "download_csv": "Times per 200 m cell (CSV)",
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
