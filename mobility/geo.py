"""Small vectorised geometry helpers on WGS84 coordinates (degrees) with results in metres.

Everything here accepts scalars or numpy arrays and follows numpy broadcasting rules.
Distances are on a sphere of radius :data:`EARTH_RADIUS_M` (the value OSMnx uses), which
is within 0.5 % of the ellipsoidal distance: plenty for walking and driving networks.
"""

from __future__ import annotations

import numpy as np

#: mean Earth radius in metres (same value as ``osmnx.distance.EARTH_RADIUS_M``)
EARTH_RADIUS_M = 6_371_009.0


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres between points given in degrees.

    Parameters broadcast against each other like any numpy ufunc, so one point against
    an array of points, or two arrays of equal shape, both work. Returns a float for
    scalar inputs and a float64 array otherwise.
    """
    lat1 = np.radians(lat1)
    lat2 = np.radians(lat2)
    dlat = lat2 - lat1
    dlon = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dlat / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2.0) ** 2
    # clip guards against h slightly above 1 from rounding for antipodal points
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def to_unit_xyz_m(lat, lon):
    """3-D Cartesian coordinates (metres) of points on the sphere of radius EARTH_RADIUS_M.

    The straight-line (chord) distance between two such points is never larger than
    their great-circle distance and equal to it within 1 mm up to ~3 km apart, which makes
    these coordinates a distortion-free key for a KD-tree anywhere on Earth.
    Returns an array of shape ``(n, 3)``.
    """
    lat = np.radians(np.atleast_1d(np.asarray(lat, dtype=float)))
    lon = np.radians(np.atleast_1d(np.asarray(lon, dtype=float)))
    cos_lat = np.cos(lat)
    return EARTH_RADIUS_M * np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))


class LocalProjection:
    """Equirectangular projection centred on ``(lat0, lon0)``: degrees <-> metres.

    ``x`` is metres east of ``lon0`` and ``y`` metres north of ``lat0``. Distances in
    the projected plane are accurate to about 0.1 % within 10 km of the centre at
    mid-latitudes, which is what snapping and short footpaths need.
    """

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0 = float(lat0)
        self.lon0 = float(lon0)
        self.m_per_deg_lat = np.radians(1.0) * EARTH_RADIUS_M
        self.m_per_deg_lon = self.m_per_deg_lat * np.cos(np.radians(self.lat0))

    def to_xy(self, lat, lon):
        """Project degrees to ``(x_m, y_m)``."""
        x = (np.asarray(lon, dtype=float) - self.lon0) * self.m_per_deg_lon
        y = (np.asarray(lat, dtype=float) - self.lat0) * self.m_per_deg_lat
        return x, y

    def to_latlon(self, x_m, y_m):
        """Inverse of :meth:`to_xy`: metres back to ``(lat, lon)`` degrees."""
        lat = self.lat0 + np.asarray(y_m, dtype=float) / self.m_per_deg_lat
        lon = self.lon0 + np.asarray(x_m, dtype=float) / self.m_per_deg_lon
        return lat, lon

    def __repr__(self) -> str:
        return f"LocalProjection(lat0={self.lat0!r}, lon0={self.lon0!r})"


def project_on_segment(px, py, ax, ay, bx, by):
    """Project points P onto segments AB in a plane (any consistent unit, e.g. metres).

    Returns ``(fraction, distance)``: ``fraction`` in [0, 1] is the position of the
    closest point of the segment (0 at A, 1 at B) and ``distance`` is |P - closest|.
    Degenerate segments (A == B) give fraction 0. Inputs broadcast.
    """
    px, py, ax, ay, bx, by = (np.asarray(a, dtype=float) for a in (px, py, ax, ay, bx, by))
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((px - ax) * dx + (py - ay) * dy) / len2
    t = np.where(len2 > 0.0, np.clip(t, 0.0, 1.0), 0.0)
    cx = ax + t * dx
    cy = ay + t * dy
    return t, np.hypot(px - cx, py - cy)


def point_segment_distance_m(lat, lon, lat_a, lon_a, lat_b, lon_b):
    """Distance in metres from points to straight segments, all in degrees.

    Each point is measured in an equirectangular frame centred on itself, so the result is
    accurate for segments up to a few kilometres away wherever the points are. Returns
    ``(fraction, distance_m)`` like :func:`project_on_segment`. Inputs broadcast.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    m_lat = np.radians(1.0) * EARTH_RADIUS_M
    m_lon = m_lat * np.cos(np.radians(lat))
    ax = (np.asarray(lon_a, dtype=float) - lon) * m_lon
    ay = (np.asarray(lat_a, dtype=float) - lat) * m_lat
    bx = (np.asarray(lon_b, dtype=float) - lon) * m_lon
    by = (np.asarray(lat_b, dtype=float) - lat) * m_lat
    return project_on_segment(0.0, 0.0, ax, ay, bx, by)


def interpolate(lat_a, lon_a, lat_b, lon_b, fraction):
    """Point at ``fraction`` (0..1) of the straight segment A->B, as ``(lat, lon)`` degrees."""
    f = np.asarray(fraction, dtype=float)
    lat = np.asarray(lat_a, dtype=float) + f * (np.asarray(lat_b, dtype=float) - lat_a)
    lon = np.asarray(lon_a, dtype=float) + f * (np.asarray(lon_b, dtype=float) - lon_a)
    return lat, lon
