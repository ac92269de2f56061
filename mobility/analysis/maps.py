"""PNG maps (matplotlib, Agg): a travel-time surface or a scenario difference over the territory.

Layers, bottom to top: the surface (cells coloured by time band; "no service within the limit" in a
hatched grey, cells outside the walk network left blank), commune areas, roads (drive network), bus /
train lines (stop sequences of the patterns), service sites (all in grey, the target's in red), a
colour legend, a scale bar and a title saying date, window, modes and statistic.  Plotted in lon/lat
with the aspect ratio of the latitude, so distances are true to ~0.5 %.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

BANDS_MIN = (0, 15, 30, 45, 60, 90)
BAND_COLOURS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")


def _base(ctx, grid, figsize=(11, 9.5)):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots(figsize=figsize, dpi=110)
    lat0 = float(np.mean(grid.lat))
    ax.set_aspect(1.0 / math.cos(math.radians(lat0)))
    net = ctx.planner.network
    roads = net.drive if net.drive is not None else net.walk
    keep = roads.edge_u < roads.edge_v
    u, v = roads.edge_u[keep], roads.edge_v[keep]
    segs = np.stack([np.column_stack([roads.node_lon[u], roads.node_lat[u]]),
                     np.column_stack([roads.node_lon[v], roads.node_lat[v]])], axis=1)
    ax.add_collection(LineCollection(segs, colors="#9e9e9e", linewidths=0.35, zorder=3))
    return fig, ax, LineCollection


def _communes(ax, ctx):
    for geom in ctx.communes["geometry"]:
        polys = getattr(geom, "geoms", [geom])
        for p in polys:
            x, y = p.exterior.xy
            ax.plot(x, y, color="#444444", linewidth=0.4, zorder=4)


def _lines(ax, ctx, tt, LineCollection):
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    segs, cols = [], []
    for p in range(tt.n_patterns):
        st = tt.pattern_stop_list(p)
        route = int(tt.pattern_route[p])
        segs.append(np.column_stack([tt.stop_lon[st], tt.stop_lat[st]]))
        cols.append(cmap(route % 20))
    ax.add_collection(LineCollection(segs, colors=cols, linewidths=1.3, zorder=5, alpha=0.9))
    ax.plot([], [], color=cmap(0), linewidth=1.3, label="bus / train lines")


def _sites(ax, ctx, target_ids, extra=None):
    sites = ctx.catalogue.sites
    ax.scatter([s.lon for s in sites], [s.lat for s in sites], s=6, c="#555555", zorder=6, label="service sites")
    pts = [(s.lon, s.lat) for s in sites if s.id in target_ids]
    if extra:
        pts += list(extra)
    if pts:
        xs, ys = zip(*pts)
        ax.scatter(xs, ys, s=90, marker="*", c="#d7191c", edgecolors="black", linewidths=0.5, zorder=7,
                   label="target")


def _scale_bar(ax, lat0: float, km: float = 5.0):
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    deg = km / (111.32 * math.cos(math.radians(lat0)))
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + deg], [by, by], color="black", linewidth=3, zorder=8, solid_capstyle="butt")
    ax.text(bx + deg / 2, by + 0.012 * (y1 - y0), f"{km:g} km", ha="center", va="bottom", fontsize=9, zorder=8)


def _finish(fig, ax, grid, title: str, path, extra_handles=()):
    lo, la = grid.lon_edges(), grid.lat_edges()
    ax.set_xlim(lo[0], lo[-1])
    ax.set_ylim(la[0], la[-1])
    _scale_bar(ax, float(np.mean(grid.lat)))
    import textwrap

    title = "\n".join(textwrap.fill(line, 100) for line in title.split("\n"))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=list(handles) + list(extra_handles), loc="upper right", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return Path(path)


def render_surface(ctx, surface, path, stat: str = "p50") -> Path:
    """The surface of ``stat`` (minutes) as a PNG."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    grid = surface.grid
    fig, ax, LineCollection = _base(ctx, grid)
    values = surface.stat_min(stat)
    lo, la = grid.lon_edges(), grid.lat_edges()
    ras = grid.raster(values)
    cmap = ListedColormap(BAND_COLOURS)
    norm = BoundaryNorm(BANDS_MIN, cmap.N)
    mesh = ax.pcolormesh(lo, la, np.ma.masked_invalid(ras), cmap=cmap, norm=norm, zorder=1, alpha=0.85)
    noserv = grid.raster(np.where(surface.status() == "no_service", 1.0, np.nan))
    ax.pcolormesh(lo, la, np.ma.masked_invalid(noserv), cmap=ListedColormap(["#d9d9d9"]), zorder=1, alpha=0.9)
    cbar = fig.colorbar(mesh, ax=ax, shrink=0.6, ticks=BANDS_MIN)
    cbar.set_label("travel time (min)")
    _communes(ax, ctx)
    tt = ctx.planner.network.timetable(surface.date, walk_speed_mps=surface.options.walk_speed_mps,
                                       max_walk_m=surface.options.max_walk_m,
                                       min_transfer_s=surface.options.min_transfer_s)
    _lines(ax, ctx, tt, LineCollection)
    _sites(ax, ctx, {p.site_id for p in surface.target.points}, [(p.lon, p.lat) for p in surface.target.points])
    title = ("Travel time " + surface.describe(stat).replace(" - ", "\n", 1) + (f"\nscenario: {surface.scenario}" if surface.scenario else ""))
    return _finish(fig, ax, grid, title, path,
                   [Patch(facecolor="#d9d9d9", label=f"no service within {surface.limit_min} min")])


def render_difference(ctx, base, scen, path, stat: str = "p50", title: str = "") -> Path:
    """Scenario minus baseline (minutes; blue = faster); cells gaining / losing service flagged."""
    from matplotlib.colors import ListedColormap, TwoSlopeNorm

    grid = base.grid
    fig, ax, LineCollection = _base(ctx, grid)
    a, b = base.stat_min(stat), scen.stat_min(stat)
    diff = b - a
    lo, la = grid.lon_edges(), grid.lat_edges()
    mesh = ax.pcolormesh(lo, la, np.ma.masked_invalid(grid.raster(diff)), cmap="RdBu_r",
                         norm=TwoSlopeNorm(0.0, -30.0, 30.0), zorder=1)
    gained = grid.raster(np.where(np.isnan(a) & ~np.isnan(b), 1.0, np.nan))
    lost = grid.raster(np.where(~np.isnan(a) & np.isnan(b), 1.0, np.nan))
    ax.pcolormesh(lo, la, np.ma.masked_invalid(gained), cmap=ListedColormap(["#08519c"]), zorder=2)
    ax.pcolormesh(lo, la, np.ma.masked_invalid(lost), cmap=ListedColormap(["#a50f15"]), zorder=2)
    cbar = fig.colorbar(mesh, ax=ax, shrink=0.6)
    cbar.set_label("change in travel time (min), scenario - baseline")
    _communes(ax, ctx)
    tt = ctx.planner.network.timetable(base.date, walk_speed_mps=base.options.walk_speed_mps,
                                       max_walk_m=base.options.max_walk_m, min_transfer_s=base.options.min_transfer_s)
    _lines(ax, ctx, tt, LineCollection)
    _sites(ax, ctx, {p.site_id for p in scen.target.points}, [(p.lon, p.lat) for p in scen.target.points])
    from matplotlib.patches import Patch

    title = title or f"Scenario difference - {base.describe(stat)}"
    return _finish(fig, ax, grid, title, path, [Patch(facecolor="#08519c", label="newly served"),
                                                Patch(facecolor="#a50f15", label="no longer served")])
