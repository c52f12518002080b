"""Pages the workbench server draws itself: the dashboards' front page and the basemap's tiles.

The front page is what a member sees after logging in to the dashboards: each dashboard named by what it is
for (never a notebook's file name), the member's name and role, their open cases, the hotlist alerts waiting
for verification, and a log-out link. It is drawn by the server from the door (no kernel starts for it), and
like every page of the workbench it asks nothing of any other host.

The tile route serves the department's basemap (:mod:`workbench.basemap`) to logged-in members only.
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from tornado import httpclient, web

from alpr_lib.access import resume
from alpr_lib.access.roles import may
from alpr_lib.errors import AlprError, NotAuthenticated

from .basemap import ROUTE
from .config import readable_time

__all__ = ["DASHBOARDS", "FrontPageHandler", "TileHandler", "handlers"]

#: The dashboards in the order the front page lists them: file, title, what it is for, the operation a
#: member's role must be allowed for it to be listed.
DASHBOARDS: tuple[tuple[str, str, str, str], ...] = (
    (
        "canvass.ipynb",
        "Canvass a scene",
        "Which vehicles passed near a place in a time window. Click the map to place the scene; narrow by "
        "the vehicle's colour and body type.",
        "canvass",
    ),
    (
        "partial_plate.ipynb",
        "Identify a partial plate",
        "A witness saw part of a plate, perhaps the vehicle: every plate that fits, and where and when each "
        "was read.",
        "search.partial",
    ),
    (
        "timeline.ipynb",
        "Follow a vehicle",
        "One plate's sightings in order on the map, the places it stays and the hours it is seen; vehicles "
        "travelling with it.",
        "timeline",
    ),
    (
        "alerts.ipynb",
        "Verify hotlist alerts",
        "Hits waiting to be verified through the state system (LEDS) before anyone acts on them.",
        "alerts.list",
    ),
    (
        "audit_review.ipynb",
        "Review the audit log",
        "Who searched what, for which case and why; the flags for the monthly review.",
        "audit.report",
    ),
)

_STYLE = """<style>
 body { font-family: system-ui, sans-serif; background: #f3f4f6; margin: 0; color: #111827; }
 header { background: #1e3a8a; color: #fff; padding: .8rem 1.5rem; display: flex; align-items: center;
          justify-content: space-between; }
 header h1 { font-size: 1.15rem; margin: 0; } header a { color: #fff; }
 main { max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; }
 .who { margin: 0 0 1rem; color: #374151; }
 .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: 1rem; }
 .card { background: #fff; border-radius: 8px; padding: 1rem 1.2rem; box-shadow: 0 1px 3px rgba(0,0,0,.12);
         text-decoration: none; color: inherit; display: block; }
 .card:hover { box-shadow: 0 2px 8px rgba(0,0,0,.2); }
 .card h2 { font-size: 1.05rem; margin: 0 0 .4rem; color: #1d4ed8; } .card p { margin: 0; color: #4b5563; }
 .badge { background: #dc2626; color: #fff; border-radius: 999px; padding: 0 .5rem; font-size: .85rem;
          margin-left: .4rem; }
 section { background: #fff; border-radius: 8px; padding: 1rem 1.2rem; margin-top: 1.2rem;
           box-shadow: 0 1px 3px rgba(0,0,0,.12); }
 section h2 { font-size: 1rem; margin: 0 0 .5rem; }
 table { border-collapse: collapse; } td, th { text-align: left; padding: .2rem .8rem .2rem 0; }
 .warn { background: #fef3c7; color: #92400e; padding: .6rem .8rem; border-radius: 4px; }
 .notice { font-size: .85rem; color: #555; margin-top: 1.6rem; }
</style>"""


class FrontPageHandler(JupyterHandler):
    """The dashboards' front page for the logged-in member."""

    @web.authenticated
    async def get(self, *_args: str) -> None:
        from .server_auth import _client, door, session_token

        store, policy = door()
        token = session_token(self)

        def front_page() -> dict[str, Any]:
            return resume(store, token or "", client=_client(), policy=policy).front_page()

        try:
            page = await asyncio.to_thread(front_page)  # off the event loop, like every database call
        except NotAuthenticated:
            self.redirect(f"{self.base_url}login")
            return
        except AlprError as exc:
            self.set_status(503 if "database" in str(exc) else 403)
            self.write(_page("ALPR Workbench", f'<p class="warn">{html.escape(str(exc))}</p>', self.base_url))
            return
        self.write(_page("ALPR Workbench", self._body(page, policy.timezone), self.base_url))

    def _body(self, page: dict[str, Any], tz: str) -> str:
        from .servers import runtime

        root = runtime().served
        role, base = page["role"], self.base_url
        cards = []
        for name, title, purpose, operation in DASHBOARDS:
            if not may(role, operation) or (root is not None and not (root / name).is_file()):
                continue
            badge = ""
            if name == "alerts.ipynb" and page.get("unverified_alerts"):
                badge = f'<span class="badge" id="alerts-waiting">{page["unverified_alerts"]:,}</span>'
            cards.append(
                f'<a class="card" href="{base}voila/render/{name}"><h2>{html.escape(title)}{badge}</h2>'
                f"<p>{html.escape(purpose)}</p></a>"
            )
        # A member's full name with their account name beside it; the account name alone when none is kept.
        who = (
            f"<b>{html.escape(page['full_name'])}</b> ({html.escape(page['name'])})"
            if page["full_name"]
            else f"<b>{html.escape(page['name'])}</b>"
        )
        trained = "" if page["trained"] else (
            '<p class="warn">Your ALPR training is not current: the dashboards refuse searches until a '
            "trainer records it.</p>"
        )  # fmt: skip
        if page["cases"]:
            rows = "".join(
                f"<tr><td>{html.escape(c['case'])}</td><td>{html.escape(c['offense'] or '')}</td>"
                f"<td>{html.escape(readable_time(c['opened_at'], tz))}</td></tr>"
                for c in page["cases"]
            )
            cases = f"<table><tr><th>Case</th><th>Offense</th><th>Opened</th></tr>{rows}</table>"
        else:
            cases = "<p>No open case is assigned to you. A supervisor assigns cases.</p>"
        alerts = ""
        if page.get("unverified_alerts") is not None:
            n = page["unverified_alerts"]
            alerts = (
                f'<section><h2>Hotlist alerts</h2><p id="alerts-line">{n:,} alert{"s" * (n != 1)} waiting '
                f'for verification. <a href="{base}voila/render/alerts.ipynb">Verify them</a> before anyone '
                "acts on a hit.</p></section>"
            )
        return (
            f'<p class="who" id="member">Logged in as {who}, '
            f"{html.escape(role)}.</p>{trained}"
            f'<div class="cards">{"".join(cards)}</div>'
            f'<section><h2>Your open cases</h2><div id="cases">{cases}</div></section>{alerts}'
        )


def _page(title: str, body: str, base: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{_STYLE}</head><body>'
        f'<header><h1>ALPR Workbench</h1><a id="logout" href="{base}logout">Log out</a></header>'
        f'<main>{body}<p class="notice">ALPR data is confidential and for official law-enforcement use '
        "only. Every access is recorded by name, date and time, with its purpose and case.</p></main>"
        "</body></html>"
    )


class TileHandler(JupyterHandler):
    """A basemap tile, for logged-in members only: from the MBTiles file, or fetched by this server from the
    department's tile server (the browser never asks another host)."""

    @web.authenticated
    async def get(self, z: str, x: str, y: str) -> None:
        from .servers import runtime

        basemap = runtime().basemap
        if basemap is None:
            raise web.HTTPError(404)
        zi, xi, yi = int(z), int(x), int(y)
        if basemap.url is not None:
            if not (0 <= zi <= 22 and 0 <= xi < 2**zi and 0 <= yi < 2**zi):
                raise web.HTTPError(404)
            url = basemap.url.replace("{z}", str(zi)).replace("{x}", str(xi)).replace("{y}", str(yi))
            try:
                response = await httpclient.AsyncHTTPClient().fetch(url, request_timeout=10)
            except (httpclient.HTTPClientError, OSError):
                raise web.HTTPError(404) from None
            data, media = response.body, response.headers.get("Content-Type", "image/png")
        else:  # read (or drawn) in a worker thread: the server's loop keeps serving the dashboards meanwhile
            found = await asyncio.get_running_loop().run_in_executor(None, basemap.tile, zi, xi, yi)
            if found is None:
                raise web.HTTPError(404)
            data, media = found, basemap.media_type
        self.set_header("Content-Type", media)
        self.set_header("Cache-Control", "private, max-age=86400")
        self.write(data)


def handlers(dashboards: bool) -> list[tuple[str, Any]]:
    """The server's own routes: the tiles always; on the dashboards' server, the front page at the root and
    in place of Voila's file listing."""
    routes: list[tuple[str, Any]] = [
        ("/" + ROUTE.replace("{z}", r"(\d+)").replace("{x}", r"(\d+)").replace("{y}", r"(\d+)"), TileHandler)
    ]
    if dashboards:
        routes += [(path, FrontPageHandler) for path in (r"/", r"/voila/tree(/.*)?", r"/home")]
    return routes
