"""Postcodes and distances for the directory: pure Python, no Django.

Distances are great-circle distances on a sphere of the mean Earth radius (haversine),
in metres, from a postcode's centroid to a location's coordinates, as ORUK's
``proximity`` parameter asks. Over a borough the error against the ellipsoid is well
under 0.5%, far below what the centroid itself costs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # the IUGG mean radius
METRES_PER_MILE = 1609.344
# A UK postcode: outward code (area, district) and inward code (sector, unit).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def postcode_normalise(text: str) -> str | None:
    """'sk43qx ' -> 'SK4 3QX'; None when the text is not shaped like a UK postcode."""
    squeezed = re.sub(r"\s+", "", text or "").upper()
    match = _POSTCODE.match(squeezed)
    if match is None:
        return None
    return f"{match.group(1)} {match.group(2)}"


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Box:
    """A latitude/longitude box that holds every point within a radius of its centre."""

    south: float
    north: float
    west: float
    east: float


def bounding_box(lat: float, lon: float, radius_m: float) -> Box:
    """A box a database index can use before the exact distance is worked out.

    Generous on purpose (it must never leave out a point inside the radius); near the
    poles it spans every longitude.
    """
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
    dlon = 180.0 if cos_lat <= 1e-9 else min(180.0, dlat / cos_lat)
    return Box(lat - dlat, lat + dlat, lon - dlon, lon + dlon)


def coordinates_valid(lat: float | None, lon: float | None) -> bool:
    """Both given and on the globe (feeds do send 100, 101: the ORUK example does)."""
    if lat is None or lon is None:
        return False
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def distance_text(metres: float) -> str:
    """A distance as a resident reads it: miles to one decimal place, yards when close."""
    miles = metres / METRES_PER_MILE
    if miles < 0.1:
        return f"{round(metres / 0.9144, -1):.0f} yards"
    return f"{miles:.1f} miles"
