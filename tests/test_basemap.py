"""The basemap: the synthetic city's tiles drawn with street names, a department's MBTiles read as GIS offices
export them, bad basemaps refused in one line, and tiles served to logged-in members only."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from alpr_lib.errors import ConfigError
from alpr_lib.store import Store
from alpr_lib.synth import CityConfig, generate
from workbench.basemap import DEMO_FILE, Basemap, open_basemap, render_tile, tile_of, write_generated

from .conftest import DEMO_PASSWORD
from .servers import run_server, web_login

FLORENCE = (-124.0998, 43.9826)


@pytest.fixture(scope="module")
def roads() -> dict:
    return generate(CityConfig(reads=1_000, seed=3)).roads


def test_the_city_is_drawn_with_its_street_names(roads: dict, tmp_path: Path) -> None:
    from PIL import Image

    x, y = tile_of(*FLORENCE, 15)
    drawn = render_tile(roads["features"], 15, x, y)
    unnamed = [
        {**f, "properties": {k: v for k, v in f["properties"].items() if k not in ("name", "street")}}
        for f in roads["features"]
    ]
    bare = render_tile(unnamed, 15, x, y)
    image = Image.open(io.BytesIO(drawn))
    assert image.size == (256, 256) and image.format == "PNG"
    assert drawn != bare  # the names are on the tile
    colours = {c for _n, c in image.getcolors(65536)}
    assert (252, 214, 146) in colours and (242, 239, 233) in colours  # a main road on land
    sea = Image.open(io.BytesIO(render_tile(roads["features"], 15, *tile_of(-124.16, 43.97, 15))))
    assert sea.getpixel((128, 128)) == (170, 211, 223)  # the Pacific, west of the coast


def test_a_generated_basemap_draws_tiles_when_asked_and_keeps_them(roads: dict, tmp_path: Path) -> None:
    path = write_generated(tmp_path / DEMO_FILE, roads)
    assert path.stat().st_mode & 0o077 == 0
    basemap = open_basemap("", tmp_path)
    assert basemap is not None and basemap.media_type == "image/png"
    x, y = tile_of(*FLORENCE, 14)
    first = basemap.tile(14, x, y)
    assert first is not None and first[:8] == b"\x89PNG\r\n\x1a\n"
    with sqlite3.connect(path) as db:  # kept, in MBTiles' own row order (from the south)
        (row,) = db.execute(
            "SELECT tile_row FROM tiles WHERE zoom_level=14 AND tile_column=?", (x,)
        ).fetchone()
    assert row == 2**14 - 1 - y and basemap.tile(14, x, y) == first
    assert basemap.tile(14, 0, 0) is None  # far from the city: nothing drawn
    assert basemap.tile(30, 0, 0) is None and basemap.tile(14, -1, 0) is None
    assert open_basemap("", tmp_path / "elsewhere") is None


def test_a_departments_mbtiles_and_tile_server(tmp_path: Path) -> None:
    path = tmp_path / "county.mbtiles"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE metadata (name TEXT, value TEXT);"
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
        )
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [("format", "jpg"), ("name", "County")])
        db.execute("INSERT INTO tiles VALUES (3, 1, 5, ?)", (b"\xff\xd8jpeg",))
    basemap = Basemap(str(path))
    assert basemap.media_type == "image/jpeg"
    assert basemap.tile(3, 1, 2) == b"\xff\xd8jpeg" and basemap.tile(3, 1, 5) is None  # XYZ row 2 = TMS row 5
    with sqlite3.connect(path) as db:
        db.execute("UPDATE metadata SET value='pbf' WHERE name='format'")
    with pytest.raises(ConfigError, match="raster tiles"):
        Basemap(str(path))
    (tmp_path / "notes.mbtiles").write_text("not a database")
    with pytest.raises(ConfigError, match="not an MBTiles file"):
        Basemap(str(tmp_path / "notes.mbtiles"))
    with pytest.raises(ConfigError, match="not a file"):
        Basemap(str(tmp_path / "missing.mbtiles"))
    with pytest.raises(ConfigError, match=r"\{z\}"):
        Basemap("http://gis.example.local/tiles.png")
    assert Basemap("http://gis.example.local/{z}/{x}/{y}.png").url is not None


@pytest.mark.slow
def test_tiles_are_served_to_members_only(city: Store, tmp_path: Path) -> None:
    write_generated(tmp_path / "data" / DEMO_FILE, json.loads(city.get_meta("roads") or "{}"))
    apps = Path(__file__).resolve().parent.parent / "voila_apps"
    x, y = tile_of(*FLORENCE, 14)
    with run_server("serve", str(city.url), apps, tmp_path) as server:
        anonymous = httpx.get(f"{server.url}/workbench/tiles/14/{x}/{y}.png", follow_redirects=False)
        assert anonymous.status_code in (302, 403) and not anonymous.content.startswith(b"\x89PNG")
        client, _reply = web_login(server.url, "analyst", DEMO_PASSWORD)
        tile = client.get(f"/workbench/tiles/14/{x}/{y}.png")
        assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
        assert tile.content.startswith(b"\x89PNG")
        assert client.get("/workbench/tiles/14/0/0.png").status_code == 404
        front = client.get("/")
        client.close()
        assert "Canvass a scene" in front.text and ".ipynb</" not in front.text
