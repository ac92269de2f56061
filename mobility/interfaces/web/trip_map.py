"""The small static map of a trip on the print view: a PNG drawn server-side with matplotlib, in Lambert-93,
from our own layers (commune boundaries and names, hatched TAD zones, bus and train lines) with the trip
over them (walk dotted, bus / train red, TAD purple, the way back dashed), the boarding stops named, both
ends marked, a scale bar and a north arrow. Uses the drawing helpers of :mod:`mobility.analysis.maps`.
"""

from __future__ import annotations

import io

import numpy as np

#: size of the printed map (inches) and its resolution: 16 x 9 cm at 150 dpi
FIGSIZE_IN = (6.3, 3.5)
DPI = 150
MODE_COLOUR = {"walk": "#1a1a1a", "tad": "#6a3d9a"}
TRANSIT_COLOUR = "#c8102e"
WORDS = {"fr": {"walk": "Marche", "transit": "Bus / train", "tad": "Transport à la demande", "back": "Retour",
                "from": "Départ", "to": "Arrivée", "zone": "Zone TAD"},
         "en": {"walk": "Walk", "transit": "Bus / train", "tad": "On-demand transport", "back": "Way back",
                "from": "Start", "to": "Destination", "zone": "TAD zone"}}


def _legs_xy(legs: list[dict]):
    from mobility.analysis.maps import _xy_l93

    out = []
    for leg in legs:
        geom = leg.get("geometry") or {}
        coords = geom.get("coordinates") or [[leg["from"]["lon"], leg["from"]["lat"]],
                                             [leg["to"]["lon"], leg["to"]["lat"]]]
        c = np.asarray(coords, float)
        x, y = _xy_l93(c[:, 0], c[:, 1])
        out.append((leg, x, y))
    return out


def trip_png(ctx, trip: dict, lang: str = "fr") -> bytes:
    """PNG bytes of the map of the trip's first itinerary and its first return option."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import shapely
    from matplotlib.lines import Line2D

    from mobility.analysis import maps
    from mobility.analysis.territory import route_paths, tad_zones

    w = WORDS.get(lang, WORDS["fr"])
    its = trip.get("itineraries") or []
    legs = its[0]["legs"] if its else []
    back = ((trip.get("return") or {}).get("options") or [])
    back_legs = back[0]["legs"] if back else []
    drawn = _legs_xy(legs)
    drawn_back = _legs_xy(back_legs)
    xs = np.concatenate([d[1] for d in drawn + drawn_back] or [np.zeros(1)])
    ys = np.concatenate([d[2] for d in drawn + drawn_back] or [np.zeros(1)])
    fig = plt.figure(figsize=FIGSIZE_IN, dpi=DPI)
    ax = fig.add_axes((0.005, 0.005, 0.99, 0.99))
    ax.set_aspect("equal", adjustable="datalim")
    # extent: the trip with a margin, widened to the figure's aspect ratio, at least 6 km across
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    aspect = FIGSIZE_IN[0] / FIGSIZE_IN[1]
    half_w = max((x1 - x0) * 0.6, (y1 - y0) * 0.6 * aspect, 3000.0)
    half_h = half_w / aspect
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    view = shapely.box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    labels: list = []
    if ctx.communes is not None and len(ctx.communes):
        geoms = maps._to_l93(ctx.communes["geometry"])
        lx, ly = maps._xy_l93(ctx.communes["lon"], ctx.communes["lat"])
        for k, geom in enumerate(geoms):
            if not geom.intersects(view):
                continue
            ax.add_patch(maps._patch(geom, facecolor="#f4f1ea", edgecolor="#6b6b6b", linewidth=0.4, zorder=1))
            if view.contains(shapely.Point(lx[k], ly[k])):
                main = int(ctx.communes["population"].iloc[k]) >= 2000
                text = ax.text(lx[k], ly[k], str(ctx.communes["name"].iloc[k]), fontsize=6.5 if main else 5,
                               fontweight="bold" if main else "normal", ha="center", va="bottom", color="#333",
                               zorder=9, path_effects=maps._halo(2))
                labels.append((text, int(ctx.communes["population"].iloc[k]), None))
    zones = tad_zones(ctx.planner.network)
    for geom in maps._to_l93([z.geometry for z in zones]):
        if geom.intersects(view):
            ax.add_patch(maps._patch(geom, facecolor="none", edgecolor=maps.TAD_COLOUR, hatch="///", linewidth=0.6,
                                     alpha=0.3, zorder=2))
    paths = route_paths(ctx.planner.network)
    for r, geom in zip(paths, maps._to_l93([shapely.LineString(r.coords) for r in paths])):
        if geom.intersects(view):
            xy = np.asarray(geom.coords)
            ax.plot(xy[:, 0], xy[:, 1], color=r.colour, linewidth=0.8, alpha=0.45, zorder=3)
    for legs_xy, dashed in ((drawn_back, True), (drawn, False)):
        for leg, x, y in legs_xy:
            mode = leg["mode"]
            colour = MODE_COLOUR.get(mode, TRANSIT_COLOUR)
            style = ":" if mode == "walk" else ("--" if dashed else "-")
            ax.plot(x, y, color=colour, linewidth=1.2 if mode == "walk" else (1.6 if dashed else 2.6),
                    linestyle=style, zorder=5 if dashed else 6, solid_capstyle="round", alpha=0.8 if dashed else 1)
    stops = {}
    for leg, x, y in drawn:
        if leg["mode"] != "walk":
            stops.setdefault(leg["from"]["name"], (x[0], y[0]))
            stops.setdefault(leg["to"]["name"], (x[-1], y[-1]))
    ends = [(trip.get("origin") or {}), (trip.get("destination") or {})]
    end_names = {e.get("name") for e in ends}
    for name, (x, y) in stops.items():
        if name in end_names:
            continue
        ax.scatter([x], [y], s=14, c="white", edgecolors="#111", linewidths=0.8, zorder=7)
        text = ax.text(x, y, " " + name, fontsize=5.5, ha="left", va="center", zorder=10, color="#111",
                       path_effects=maps._halo(2))
        labels.append((text, 5_000_000, None))
    for end, colour, word in ((ends[0], "#1e6b30", w["from"]), (ends[1], TRANSIT_COLOUR, w["to"])):
        if "lat" in end:
            ex, ey = maps._xy_l93(np.array([end["lon"]]), np.array([end["lat"]]))
            ax.scatter(ex, ey, s=48, c=colour, edgecolors="white", linewidths=1.2, zorder=8,
                       marker="o" if word == w["from"] else "s")
            name = str(end.get("name", ""))
            name = name if len(name) <= 40 else name[:39].rstrip(" -,") + "…"
            right = ex[0] > cx + half_w * 0.2
            text = ax.text(ex[0], ey[0], f"{word} : {name}" if lang == "fr" else f"{word}: {name}", fontsize=6,
                           fontweight="bold", ha="right" if right else "left", va="bottom", zorder=11,
                           path_effects=maps._halo(2.5))
            labels.append((text, 9_000_000, None))
    ax.set_xticks([])
    ax.set_yticks([])
    maps._scale_bar(ax)
    maps._north_arrow(ax)
    handles = [Line2D([], [], color=TRANSIT_COLOUR, linewidth=2.4, label=w["transit"]),
               Line2D([], [], color=MODE_COLOUR["tad"], linewidth=2.4, label=w["tad"]),
               Line2D([], [], color=MODE_COLOUR["walk"], linewidth=1.2, linestyle=":", label=w["walk"])]
    if drawn_back:
        handles.append(Line2D([], [], color=TRANSIT_COLOUR, linewidth=1.6, linestyle="--", label=w["back"]))
    ax.legend(handles=handles, loc="upper right", fontsize=5.5, framealpha=0.9)
    label_texts = [(t, p, None) for t, p, _ in labels]
    maps._place_labels(fig, ax, label_texts)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()
