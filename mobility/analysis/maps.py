"""Planner-grade PNG maps (matplotlib, Agg) of a travel-time surface or a scenario difference.

Projection: Lambert-93 (EPSG:2154, the French official projection, metres), every layer reprojected from
lon/lat with geopandas ``to_crs``.  Layers, bottom to top: the surface (cells coloured by time band, "no
service within the limit" in grey, cells outside the walk network left blank), roads, TAD zones (hatched,
named), commune boundaries, bus / train lines (coloured, labelled with their numbers), service sites
(marked by category; the target's as a red star), commune names (the main towns -- at least
:data:`mobility.analysis.territory.MAIN_TOWN_MIN_POPULATION` residents -- or every commune on a ``large``
map).  Furniture: legend, colour bar, scale bar, north arrow (true north, corrected for the meridian
convergence of Lambert-93), a caption with the date, window, statistic, direction and modes, and the
source line.  All text in French (``lang="fr"``) or English (``"en"``).

``surface_figure`` / ``difference_figure`` return the matplotlib figure (its artists carry the layers:
tests read them); ``render_surface`` / ``render_difference`` write the PNG (with the title, caption,
source and CRS in its metadata) and close the figure.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np
import shapely

from mobility.analysis.tad import modes_label
from mobility.analysis.territory import main_towns, route_paths, tad_zones
from mobility.domain.dates import day_text
from mobility.i18n import LANGS, N_, message, number
from mobility.planning.planner import DOOR_SNAP_MAX_M

if TYPE_CHECKING:  # heavy imports, done lazily at run time
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.collections import QuadMesh
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch

CRS_L93 = "EPSG:2154"
BANDS_MIN = (0, 15, 30, 45, 60, 90)
BAND_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
NO_SERVICE_COLOUR = "#d9d9d9"
TAD_COLOUR = "#6a3d9a"
FIGSIZE_IN = {"standard": (11.0, 10.5), "large": (16.0, 15.0)}

#: categories marked with their own symbol (others: "other public service"); (marker, colour, size)
SITE_MARKERS = {
    "france_services": ("s", "#1f4e9c", 34),
    "hospital": ("P", "#c51b7d", 46),
    "gare": ("D", "#000000", 30),
    "sous_prefecture": ("p", "#8c510a", 40),
    "mairie": ("^", "#6e6e6e", 9),
}

#: the words of the maps: keys map_* (and map_cat_* for the site categories) of the catalogs (mobility.i18n)
_TEXT_KEYS = [N_("map_title_surface"), N_("map_title_difference"), N_("map_to"), N_("map_from"),
              N_("map_trips"), N_("map_outside_network"), N_("map_departures"), N_("map_scenario"),
              N_("map_source"), N_("map_commune"), N_("map_tad"), N_("map_lines"), N_("map_other_site"),
              N_("map_target_to"), N_("map_target_from"), N_("map_no_service"), N_("map_travel_time"),
              N_("map_difference"), N_("map_gained"), N_("map_lost"), N_("map_minimum"), N_("map_median"),
              N_("map_percentile"), N_("map_planned"), N_("map_of_time")]
_CATEGORY_KEYS = [N_("map_cat_france_services"), N_("map_cat_hospital"), N_("map_cat_gare"),
                  N_("map_cat_sous_prefecture"), N_("map_cat_mairie")]


def _text(lang: str) -> dict:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {sorted(LANGS)}")
    out: dict = {k[4:]: message(k, lang) for k in _TEXT_KEYS}
    out["categories"] = {k[8:]: message(k, lang) for k in _CATEGORY_KEYS}
    out["lang"] = lang
    return out


# ------------------------------------------------------------------------------------------ projection
def _to_l93(geoms) -> "gpd.GeoSeries":
    """A GeoSeries of lon/lat shapely geometries reprojected to Lambert-93."""
    import geopandas as gpd

    return gpd.GeoSeries(list(geoms), crs="EPSG:4326").to_crs(CRS_L93)


def _xy_l93(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-93 coordinates (m) of lon/lat arrays of any shape."""
    import geopandas as gpd

    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    pts = gpd.GeoSeries(gpd.points_from_xy(lon.ravel(), lat.ravel()), crs="EPSG:4326").to_crs(CRS_L93)
    return pts.x.to_numpy().reshape(lon.shape), pts.y.to_numpy().reshape(lon.shape)


def _patch(geom, **kw) -> "PathPatch":
    """A matplotlib patch of a (multi)polygon, holes included."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    paths = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            paths.append(MPath(np.asarray(ring.coords)[:, :2], closed=True))
    return PathPatch(MPath.make_compound_path(*paths), **kw)


def _halo(width: float = 2.5) -> list:
    import matplotlib.patheffects as pe

    return [pe.withStroke(linewidth=width, foreground="white")]


# ------------------------------------------------------------------------------------------------ text
def stat_text(stat: str, lang: str) -> str:
    t = _text(lang)
    planned = stat.startswith("planned_")
    base = stat[len("planned_"):] if planned else stat
    label = t["minimum"] if base == "min" else (t["median"] if base == "p50" else t["percentile"].format(n=base[1:]))
    return label + t["of_time"] + (t["planned"] if planned else "")


def date_text(day: dt.date, lang: str) -> str:
    _text(lang)  # an unknown language is an error here, as for every map text
    return day_text(day, lang)


def caption(surface, stat: str, lang: str) -> str:
    """Direction · date · departures window · statistic · modes (· scenario): what the map shows, in ``lang``."""
    t = _text(lang)
    w0, w1 = (x.strftime("%H:%M") for x in surface.window)
    parts = [t["trips"].format(what=t[surface.direction], target=surface.target.label),
             date_text(surface.date, lang), t["departures"].format(w0=w0, w1=w1, step=surface.step_min),
             stat_text(stat, lang), modes_label(surface.modes, lang)]
    if surface.scenario:
        parts.append(t["scenario"].format(name=surface.scenario))
    return " · ".join(parts)


def title(surface, lang: str, kind: str = "surface") -> str:
    t = _text(lang)
    return t[f"title_{kind}"].format(what=t[surface.direction], target=surface.target.label)


# ---------------------------------------------------------------------------------------------- layers
def _roads(ax, ctx) -> None:
    from matplotlib.collections import LineCollection

    net = ctx.planner.network
    roads = net.drive if net.drive is not None else net.walk
    keep = roads.edge_u < roads.edge_v
    u, v = roads.edge_u[keep], roads.edge_v[keep]
    x, y = _xy_l93(roads.node_lon, roads.node_lat)
    segs = np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1)
    ax.add_collection(LineCollection(segs, colors="#a8a8a8", linewidths=0.3, zorder=3, gid="roads"))


def _tad_zones(ax, ctx, t: dict, handles: list, labels: list) -> None:
    from matplotlib.patches import Patch

    zones = tad_zones(ctx.planner.network)
    if not zones:
        return
    geoms = _to_l93([z.geometry for z in zones])
    for z, geom in zip(zones, geoms):
        ax.add_patch(_patch(geom, facecolor="none", edgecolor=TAD_COLOUR, hatch="///", linewidth=0.9,
                            alpha=0.75, zorder=4, gid=f"tad:{z.zone_id}"))
        p = geom.representative_point()
        text = ax.text(p.x, p.y, z.name, fontsize=8, color=TAD_COLOUR, style="italic", fontweight="bold",
                       ha="center", va="center", zorder=9, path_effects=_halo(3), gid=f"tad-name:{z.zone_id}")
        labels.append((text, PRIORITY_TAD, None))
    handles.append(Patch(facecolor="none", edgecolor=TAD_COLOUR, hatch="///", label=t["tad"]))


def _communes(ax, ctx, t: dict, size: str, handles: list, labels: list) -> None:
    from matplotlib.lines import Line2D

    com = ctx.communes
    if com is None or not len(com):
        return
    geoms = _to_l93(com["geometry"])
    for insee, geom in zip(com["insee"], geoms):
        ax.add_patch(_patch(geom, facecolor="none", edgecolor="#3a3a3a", linewidth=0.45, zorder=5,
                            gid=f"commune:{insee}"))
    main = main_towns(com).to_numpy()
    lx, ly = _xy_l93(com["lon"], com["lat"])
    for k in np.nonzero(main | (size == "large"))[0]:
        geom = geoms.iloc[k]
        x, y = (lx[k], ly[k]) if geom.contains(shapely.Point(lx[k], ly[k])) else geom.representative_point().coords[0]
        text = ax.text(x, y, str(com["name"].iloc[k]), fontsize=8.5 if main[k] else 6,
                       fontweight="bold" if main[k] else "normal", ha="center", va="bottom", color="#111111",
                       zorder=10, path_effects=_halo(), gid=f"commune-name:{com['insee'].iloc[k]}")
        labels.append((text, (PRIORITY_MAIN_TOWN if main[k] else 0) + int(com["population"].iloc[k]), None))
    handles.append(Line2D([], [], color="#3a3a3a", linewidth=0.8, label=t["commune"]))


def _lines(ax, ctx, t: dict, handles: list, labels: list) -> None:
    from matplotlib.lines import Line2D

    paths = route_paths(ctx.planner.network)
    if not paths:
        return
    geoms = _to_l93([shapely.LineString(r.coords) for r in paths])
    for r, geom in zip(paths, geoms):
        xy = np.asarray(geom.coords)
        ax.plot(xy[:, 0], xy[:, 1], color=r.colour, linewidth=1.6, zorder=6, alpha=0.95, gid=f"line:{r.route_id}",
                solid_capstyle="round")
        if r.short_name:
            places = [geom.interpolate(f, normalized=True).coords[0] for f in LINE_NUMBER_PLACES]
            text = ax.text(*places[0], r.short_name, fontsize=6.5, color="white", fontweight="bold", ha="center",
                           va="center", zorder=11, gid=f"line-number:{r.route_id}",
                           bbox={"boxstyle": "round,pad=0.2", "facecolor": r.colour, "edgecolor": "white",
                                 "linewidth": 0.5})
            labels.append((text, PRIORITY_LINE_NUMBER, places))
    handles.append(Line2D([], [], color="#3b6fb6", linewidth=1.6, label=t["lines"]))


def _sites(ax, ctx, t: dict, target_points, direction: str) -> None:
    sites = ctx.catalogue.sites
    if sites:
        x, y = _xy_l93([s.lon for s in sites], [s.lat for s in sites])
        kind = np.array([next((c for c in SITE_MARKERS if c in s.categories), "") for s in sites])
        other = kind == ""
        ax.scatter(x[other], y[other], s=10, marker="o", c="#4d4d4d", zorder=7, label=t["other_site"],
                   gid="sites:other")
        for cat, (marker, colour, size) in SITE_MARKERS.items():
            sel = kind == cat
            if sel.any():
                ax.scatter(x[sel], y[sel], s=size, marker=marker, c=colour, edgecolors="white", linewidths=0.4,
                           zorder=7, label=t["categories"][cat], gid=f"sites:{cat}")
    if target_points:
        tx, ty = _xy_l93([p[0] for p in target_points], [p[1] for p in target_points])
        ax.scatter(tx, ty, s=150, marker="*", c="#d7191c", edgecolors="black", linewidths=0.6, zorder=8,
                   label=t[f"target_{direction}"], gid="target")


def _scale_bar(ax, lang: str = "en") -> None:
    """Two-segment black/white bar in metres (the axes are Lambert-93 metres)."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span_km = (x1 - x0) / 1000
    km = 10 if span_km > 45 else 5
    bx, by, h = x0 + 0.04 * (x1 - x0), y0 + 0.035 * (y1 - y0), 0.006 * (y1 - y0)
    half = km * 500.0
    for k, colour in enumerate(("black", "white")):
        ax.add_patch(Rectangle((bx + k * half, by), half, h, facecolor=colour, edgecolor="black", linewidth=0.7,
                               zorder=12, gid="scale-bar"))
    mid = number(km / 2, lang, 0 if float(km / 2).is_integer() else 1)  # "2,5" in French
    for xk, label in ((bx, "0"), (bx + half, mid), (bx + 2 * half, f"{number(km, lang)} km")):
        ax.text(xk, by + 1.8 * h, label, ha="center", va="bottom", fontsize=8, zorder=12, path_effects=_halo(2))


def _north_arrow(ax) -> None:
    """An arrow to true north at the map centre (Lambert-93 grid north differs by the meridian convergence)."""
    from pyproj import Transformer

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    to_wgs = Transformer.from_crs(CRS_L93, "EPSG:4326", always_xy=True)
    to_l93 = Transformer.from_crs("EPSG:4326", CRS_L93, always_xy=True)
    lon, lat = to_wgs.transform((x0 + x1) / 2, (y0 + y1) / 2)
    ax_, ay_ = to_l93.transform(lon, lat)
    bx_, by_ = to_l93.transform(lon, lat + 0.05)
    ang = math.atan2(bx_ - ax_, by_ - ay_)  # clockwise from grid north
    length = 0.06 * (y1 - y0)
    tx, ty = x0 + 0.07 * (x1 - x0), y1 - 0.16 * (y1 - y0)
    hx, hy = tx + length * math.sin(ang), ty + length * math.cos(ang)
    ax.annotate("", xy=(hx, hy), xytext=(tx, ty), zorder=12,
                arrowprops={"arrowstyle": "-|>,head_width=0.5,head_length=0.9", "color": "black", "linewidth": 1.8})
    ax.text(hx, hy + 0.01 * (y1 - y0), "N", ha="center", va="bottom", fontsize=12, fontweight="bold", zorder=12,
            path_effects=_halo(2), gid="north-arrow")


# ---------------------------------------------------------------------------------------------- figure
def _figure(ctx, grid, size: str) -> tuple["Figure", "Axes"]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if size not in FIGSIZE_IN:
        raise ValueError(f"size must be one of {sorted(FIGSIZE_IN)}")
    fig, ax = plt.subplots(figsize=FIGSIZE_IN[size], dpi=110)
    ax.set_aspect("equal")
    ax.set_gid(CRS_L93)
    return fig, ax


def _mesh(ax, grid, values, **kw) -> "QuadMesh":
    """Cells as a quadrilateral mesh in Lambert-93 (the grid's lon/lat rectangles, corners reprojected)."""
    lo, la = np.meshgrid(grid.lon_edges(), grid.lat_edges())
    X, Y = _xy_l93(lo, la)
    return ax.pcolormesh(X, Y, np.ma.masked_invalid(grid.raster(values)), **kw)


def _layers(ax, ctx, surface, t: dict, size: str) -> tuple[list, list]:
    """Draw the vector layers: (legend handles of those without a label of their own, labels to place)."""
    handles: list = []
    labels: list = []
    _roads(ax, ctx)
    _tad_zones(ax, ctx, t, handles, labels)
    _communes(ax, ctx, t, size, handles, labels)
    _lines(ax, ctx, t, handles, labels)
    _sites(ax, ctx, t, [(p.lon, p.lat) for p in surface.target.points], surface.direction)
    return handles, labels


def _frame(fig, ax, ctx, grid, heading: str, cap: str, t: dict, extra_handles: list, labels: list) -> None:
    if ctx.communes is not None and len(ctx.communes):
        bounds = _to_l93(ctx.communes["geometry"]).total_bounds
    else:
        X, Y = _xy_l93(*np.meshgrid(grid.lon_edges(), grid.lat_edges()))
        bounds = (X.min(), Y.min(), X.max(), Y.max())
    pad = 1500.0
    ax.set_xlim(bounds[0] - pad, bounds[2] + pad)
    ax.set_ylim(bounds[1] - 3 * pad, bounds[3] + pad)
    ax.set_xticks([])
    ax.set_yticks([])
    _scale_bar(ax, t.get("lang", "en"))
    _north_arrow(ax)
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=extra_handles + list(handles), loc="lower right", fontsize=7.5, framealpha=0.92)
    ax.set_title(heading, fontsize=13, fontweight="bold", loc="left")
    import textwrap

    fig.text(0.02, 0.045, textwrap.fill(cap, 150), fontsize=8.5, ha="left", va="bottom", gid="caption")
    fig.text(0.02, 0.015, t["source"], fontsize=7.5, ha="left", va="bottom", color="#333333", gid="source")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    _place_labels(fig, ax, labels)


#: tried in turn to keep a name clear of the labels already placed (fractions of the label's width, height)
LABEL_OFFSETS = ((0.0, 0.0), (0.0, -1.1), (0.0, 1.0), (0.45, -0.5), (-0.45, -0.5), (0.0, -2.1), (0.0, 2.0))
#: where a line's number may go (fractions of its length), best first: the lines meet in Saint-Omer, their
#: far ends are apart
LINE_NUMBER_PLACES = (0.75, 0.6, 0.9, 0.45, 0.3, 0.15)
#: placement order: the main towns (by population), then line numbers, TAD zone names, other communes
PRIORITY_MAIN_TOWN, PRIORITY_LINE_NUMBER, PRIORITY_TAD = 3_000_000, 2_000_000, 1_000_000


def _place_labels(fig, ax, labels: list) -> None:
    """Place the labels (text, priority, candidate positions or None) in priority order, each at the first
    candidate clear of the labels placed before it: line numbers along their line, names at small offsets
    from their anchor (each offset keeps the name over or next to it).  A label with no clear place stays
    at its anchor."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed = []
    to_data = ax.transData.inverted()
    for text, _, places in sorted(labels, key=lambda e: -e[1]):
        box = text.get_window_extent(renderer)
        px, py = ax.transData.transform(text.get_position())
        if places is None:
            shifts = [(fx * box.width, fy * box.height) for fx, fy in LABEL_OFFSETS]
        else:
            shifts = [tuple(ax.transData.transform(p) - (px, py)) for p in places]
        for dx, dy in shifts:
            cand = box.translated(dx, dy)
            if not any(cand.overlaps(b) for b in placed):
                text.set_position(tuple(to_data.transform((px + dx, py + dy))))
                box = cand
                break
        placed.append(box)


def surface_figure(ctx, surface, stat: str = "p50", *, lang: str = "en", size: str = "standard") -> "Figure":
    """The map of the surface's ``stat`` (minutes), as a matplotlib figure (see the module docstring)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    t = _text(lang)
    grid = surface.grid
    fig, ax = _figure(ctx, grid, size)
    cmap = ListedColormap(BAND_COLOURS)
    mesh = _mesh(ax, grid, surface.stat_min(stat), cmap=cmap, norm=BoundaryNorm(BANDS_MIN, cmap.N), zorder=1,
                 alpha=0.85)
    _mesh(ax, grid, np.where(surface.status() == "no_service", 1.0, np.nan), cmap=ListedColormap([NO_SERVICE_COLOUR]),
          zorder=1, alpha=0.9)
    cbar = fig.colorbar(mesh, ax=ax, shrink=0.55, ticks=BANDS_MIN, pad=0.01)
    cbar.set_label(t["travel_time"])
    handles, labels = _layers(ax, ctx, surface, t, size)
    handles.append(Patch(facecolor=NO_SERVICE_COLOUR, label=t["no_service"].format(limit=surface.limit_min)))
    handles.append(Patch(facecolor="white", edgecolor="#9e9e9e",
                         label=t["outside_network"].format(snap_m=DOOR_SNAP_MAX_M)))
    _frame(fig, ax, ctx, grid, title(surface, lang), caption(surface, stat, lang), t, handles, labels)
    return fig


def difference_figure(ctx, base, scen, stat: str = "p50", heading: str = "", *, lang: str = "en",
                      size: str = "standard") -> "Figure":
    """Scenario minus baseline (minutes; blue = faster); cells gaining / losing service flagged."""
    from matplotlib.colors import ListedColormap, TwoSlopeNorm
    from matplotlib.patches import Patch

    t = _text(lang)
    grid = base.grid
    fig, ax = _figure(ctx, grid, size)
    a, b = base.stat_min(stat), scen.stat_min(stat)
    mesh = _mesh(ax, grid, b - a, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -30.0, 30.0), zorder=1)
    _mesh(ax, grid, np.where(np.isnan(a) & ~np.isnan(b), 1.0, np.nan), cmap=ListedColormap(["#08519c"]), zorder=2)
    _mesh(ax, grid, np.where(~np.isnan(a) & np.isnan(b), 1.0, np.nan), cmap=ListedColormap(["#a50f15"]), zorder=2)
    cbar = fig.colorbar(mesh, ax=ax, shrink=0.55, pad=0.01)
    cbar.set_label(t["difference"])
    handles, labels = _layers(ax, ctx, scen, t, size)
    handles += [Patch(facecolor="#08519c", label=t["gained"]), Patch(facecolor="#a50f15", label=t["lost"])]
    _frame(fig, ax, ctx, grid, heading or title(base, lang, "difference"), caption(scen, stat, lang), t, handles,
           labels)
    return fig


def save_figure(fig, path) -> Path:
    """Write the PNG (title, caption, source line and CRS in its metadata) and close the figure."""
    import matplotlib.pyplot as plt

    ax = fig.axes[0]
    texts = {x.get_gid(): x.get_text() for x in fig.texts}
    meta = {"Title": ax.get_title(loc="left"), "Description": texts.get("caption", ""),
            "Source": texts.get("source", ""), "Comment": f"CRS {CRS_L93}", "Software": "mobility"}
    fig.savefig(path, metadata=meta)
    plt.close(fig)
    return Path(path)


def render_surface(ctx, surface, path, stat: str = "p50", *, lang: str = "en", size: str = "standard") -> Path:
    """The surface map as a PNG file."""
    return save_figure(surface_figure(ctx, surface, stat, lang=lang, size=size), path)


def render_difference(ctx, base, scen, path, stat: str = "p50", title: str = "", *, lang: str = "en",
                      size: str = "standard") -> Path:
    """The scenario difference map as a PNG file."""
    return save_figure(difference_figure(ctx, base, scen, stat, title, lang=lang, size=size), path)
