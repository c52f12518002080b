"""The basemap under the dashboards' maps: the department's own tiles, served by the workbench server.

A department names its basemap in the settings (``basemap``): an MBTiles file of raster tiles (PNG or JPEG, as
a GIS office exports them) or the tile URL of a tile server on its own network
(``http://gis.example.local/tiles/{z}/{x}/{y}.png``). Either way the browser asks the workbench server for
``/workbench/tiles/{z}/{x}/{y}.png`` and nothing else: the server reads the file, or fetches from the
department's server, so no request leaves for the internet and the tile server needs no opening to members'
browsers.

The demo ships a basemap of the synthetic city, drawn by the project from the city's own features (roads with
their names, local streets, the coast and the river, place names): :func:`write_generated` writes an MBTiles
file holding those features, and the tiles are drawn when first asked for and kept in the file.

Tiles are in the Web Mercator grid every web map uses (XYZ numbering; MBTiles stores rows TMS-style, flipped).
"""

from __future__ import annotations

import io
import json
import math
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

from alpr_lib.errors import ConfigError

__all__ = ["TILE", "Basemap", "open_basemap", "render_tile", "write_generated"]

TILE = 256
#: The route the browser asks for tiles on (under the server's base URL).
ROUTE = "workbench/tiles/{z}/{x}/{y}.png"
_GENERATOR = "alpr-workbench"
_MIN_ZOOM, _MAX_ZOOM = 10, 18
_BUFFER = 128  # pixels drawn around a tile, so lines and labels continue across tile edges


def _pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    """The global pixel of a place at zoom ``z`` (Web Mercator)."""
    n = TILE * 2**z
    lat = max(min(lat, 85.0511), -85.0511)
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    x, y = _pixel(lon, lat, z)
    return int(x // TILE), int(y // TILE)


# -- drawing ------------------------------------------------------------------------------------------

_LAND, _WATER = (242, 239, 233), (170, 211, 223)
_STYLE = {  # kind -> (casing colour, fill colour, width at zoom 14)
    "road": ((214, 163, 80), (252, 214, 146), 5.0),
    "street": ((190, 190, 190), (255, 255, 255), 3.0),
    "river": (None, _WATER, 7.0),
}


def _font(size: int) -> Any:
    from PIL import ImageFont

    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def render_tile(features: Iterable[dict[str, Any]], z: int, x: int, y: int) -> bytes:
    """A 256-pixel PNG tile of GeoJSON features (``properties.kind``: sea, river, road, street, place;
    roads labelled by ``street`` or ``name``), drawn with a margin so neighbouring tiles join."""
    from PIL import Image, ImageDraw

    size = TILE + 2 * _BUFFER
    ox, oy = x * TILE - _BUFFER, y * TILE - _BUFFER
    image = Image.new("RGB", (size, size), _LAND)
    draw = ImageDraw.Draw(image)
    scale = 2 ** (z - 14)
    features = list(features)

    def local(coords: Iterable[Any]) -> list[tuple[float, float]]:
        out = []
        for lon, lat, *_ in coords:
            px, py = _pixel(float(lon), float(lat), z)
            out.append((px - ox, py - oy))
        return out

    for f in features:
        geom, kind = f.get("geometry") or {}, (f.get("properties") or {}).get("kind")
        if kind == "sea" and geom.get("type") == "Polygon":
            draw.polygon(local(geom["coordinates"][0]), fill=_WATER)
    labels: list[tuple[str, list[tuple[float, float]], int]] = []
    for kind in ("river", "street", "road"):
        casing, fill, width = _STYLE[kind]
        w = max(1.0, width * min(scale, 4.0) if scale >= 1 else width * scale**0.5)
        lines = [
            (f, local((f.get("geometry") or {}).get("coordinates", [])))
            for f in features
            if ((f.get("properties") or {}).get("kind") or "road") == kind
            and (f.get("geometry") or {}).get("type") == "LineString"
        ]
        if kind == "street" and z < 13:
            continue
        if casing is not None:
            for _f, pts in lines:
                draw.line(pts, fill=casing, width=round(w + 2), joint="curve")
        for f, pts in lines:
            draw.line(pts, fill=fill, width=round(w), joint="curve")
            name = (f.get("properties") or {}).get("street") or (f.get("properties") or {}).get("name")
            if name and kind != "river" and z >= 14:
                labels.append((str(name), pts, 11 if kind == "street" else 12))
    _draw_line_labels(image, labels)
    for f in features:
        props, geom = f.get("properties") or {}, f.get("geometry") or {}
        if props.get("kind") == "place" and geom.get("type") == "Point" and z >= 11:
            ((px, py),) = local([geom["coordinates"]])
            font = _font(14 if z < 14 else 16)
            text = str(props.get("name", ""))
            box = draw.textbbox((0, 0), text, font=font)
            at = (px - (box[2] - box[0]) / 2, py - (box[3] - box[1]) / 2)
            draw.text(at, text, font=font, fill=(80, 80, 90), stroke_width=2, stroke_fill=(255, 255, 255))
    tile = image.crop((_BUFFER, _BUFFER, _BUFFER + TILE, _BUFFER + TILE))
    out = io.BytesIO()
    tile.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _draw_line_labels(image: Any, labels: list[tuple[str, list[tuple[float, float]], int]]) -> None:
    """Each road's name along each segment long enough to hold it, turned to follow it (once per 500
    pixels). Placed from the segment's global pixels: a label cut by a tile edge goes on in the next."""
    from PIL import Image, ImageDraw

    for text, pts, size in labels:
        font = _font(size)
        box = ImageDraw.Draw(image).textbbox((0, 0), text, font=font, stroke_width=2)
        tw, th = box[2] - box[0] + 4, box[3] - box[1] + 4
        label = Image.new("RGBA", (tw, th), (0, 0, 0, 0))
        ImageDraw.Draw(label).text((2 - box[0], 2 - box[1]), text, font=font, fill=(60, 60, 60),
                                   stroke_width=2, stroke_fill=(255, 255, 255))  # fmt: skip
        for a, b in zip(pts, pts[1:], strict=False):
            length = math.dist(a, b)
            if length < tw * 1.3:
                continue
            angle = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
            if angle > 90 or angle < -90:  # never upside down
                a, b, angle = b, a, angle - 180 if angle > 0 else angle + 180
            turned = label.rotate(-angle, expand=True, resample=Image.Resampling.BICUBIC)
            count = max(1, int(length // 500))
            for i in range(count):
                f = (i + 0.5) / count
                cx, cy = a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])
                image.paste(turned, (round(cx - turned.width / 2), round(cy - turned.height / 2)), turned)


# -- MBTiles ------------------------------------------------------------------------------------------


def write_generated(path: Path, features: dict[str, Any], *, name: str = "Synthetic city") -> Path:
    """An MBTiles file holding ``features`` (GeoJSON) whose tiles the server draws when first asked for
    (:class:`Basemap`). Private to its owner, like every file of the workbench's data."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        path.unlink()
    lons, lats = [], []
    for f in features.get("features", []):
        geom = f.get("geometry") or {}
        coords = geom.get("coordinates", [])
        flat = (
            [coords]
            if geom.get("type") == "Point"
            else coords[0]
            if geom.get("type") == "Polygon"
            else coords
        )
        for lon, lat, *_ in flat:
            lons.append(float(lon))
            lats.append(float(lat))
    bounds = f"{min(lons):.5f},{min(lats):.5f},{max(lons):.5f},{max(lats):.5f}" if lons else "-180,-85,180,85"
    db = sqlite3.connect(path)
    try:
        path.chmod(0o600)
        db.executescript(
            "CREATE TABLE metadata (name TEXT, value TEXT);"
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
            "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
        )
        meta = {
            "name": name, "format": "png", "type": "baselayer", "version": "1", "bounds": bounds,
            "minzoom": str(_MIN_ZOOM), "maxzoom": str(_MAX_ZOOM), "generator": _GENERATOR,
            "attribution": "Synthetic city drawn by ALPR Workbench", "features": json.dumps(features),
        }  # fmt: skip
        db.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
        db.commit()
    finally:
        db.close()
    return path


class Basemap:
    """Tiles by ``(z, x, y)`` from an MBTiles file (drawn on first request when the project generated it)
    or from the department's tile server (``url`` with ``{z}``, ``{x}``, ``{y}``)."""

    def __init__(self, source: str) -> None:
        self.source = source.strip()
        self.url = self.source if self.source.startswith(("http://", "https://")) else None
        self._lock = threading.Lock()
        self.media_type = "image/png"
        self._features: list[dict[str, Any]] | None = None
        self.bounds: tuple[float, float, float, float] | None = None
        if self.url is not None:
            if not all(part in self.url for part in ("{z}", "{x}", "{y}")):
                raise ConfigError(
                    "the basemap URL needs {z}, {x} and {y}, e.g. http://gis.local/{z}/{x}/{y}.png"
                )
            return
        self.path = Path(self.source).expanduser()
        if not self.path.is_file():
            raise ConfigError(
                f"the basemap {self.path} is not a file (an MBTiles file or a tile URL expected)"
            )
        try:
            with closing(self._db()) as db:
                meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
                db.execute(
                    "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1"
                ).fetchall()
        except sqlite3.Error:
            raise ConfigError(f"the basemap {self.path.name} is not an MBTiles file") from None
        fmt = str(meta.get("format", "png")).lower()
        if fmt not in ("png", "jpg", "jpeg", "webp"):
            raise ConfigError(
                f"the basemap {self.path.name} holds {fmt} tiles; the maps draw raster tiles (png, jpg, webp)"
            )
        self.media_type = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}.get(
            fmt, "image/png"
        )
        if meta.get("bounds"):
            try:
                west, south, east, north = (float(v) for v in str(meta["bounds"]).split(","))
                self.bounds = (south, west, north, east)
            except ValueError:
                self.bounds = None
        if meta.get("generator") == _GENERATOR and meta.get("features"):
            self._features = json.loads(meta["features"]).get("features", [])

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA synchronous=OFF")  # drawn tiles are a cache: one lost in a crash is drawn again
        return db

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes (None when the basemap has none there). Only for an MBTiles source."""
        if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z):
            return None
        row = 2**z - 1 - y  # MBTiles numbers rows from the south
        with self._lock, closing(self._db()) as db:
            found = db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?", (z, x, row)
            ).fetchone()
            if found is not None:
                return bytes(found[0])
            if self._features is None or not _MIN_ZOOM <= z <= _MAX_ZOOM or not self._near(z, x, y):
                return None
            data = render_tile(self._features, z, x, y)
            db.execute("INSERT OR IGNORE INTO tiles VALUES (?, ?, ?, ?)", (z, x, row, data))
            db.commit()
            return data

    def _near(self, z: int, x: int, y: int) -> bool:
        """Whether a tile lies within the basemap's bounds (with a margin of a tile)."""
        if self.bounds is None:
            return True
        south, west, north, east = self.bounds
        x0, y0 = tile_of(west, north, z)
        x1, y1 = tile_of(east, south, z)
        return x0 - 1 <= x <= x1 + 1 and y0 - 1 <= y <= y1 + 1


def open_basemap(setting: str, data_dir: Path | str | None = None) -> Basemap | None:
    """The basemap a ``basemap`` setting names — empty: the demo's generated basemap in the data folder,
    when there is one — or None; a bad one is a one-line ``ConfigError``."""
    if setting and setting.strip():
        return Basemap(setting)
    generated = Path(data_dir) / DEMO_FILE if data_dir else None
    return Basemap(str(generated)) if generated is not None and generated.is_file() else None


#: The demo's basemap, in the data folder.
DEMO_FILE = "basemap.mbtiles"
