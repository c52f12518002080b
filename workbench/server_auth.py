"""The workbench login for JupyterLab and Voila, and what keeps each member to their own kernels.

One set of classes serves both servers (``workbench lab`` and ``workbench serve`` configure them):

:class:`WorkbenchIdentityProvider`
    a login page against the workbench's users (same lockout, same audit as the CLI), no
    token to copy. The signed cookie holds only the session's random token; each request
    checks that the session is still live (30 minutes idle, 12 hours at most). Only a member's
    actions reset the idle clock: opening a page, running a cell, a dashboard widget event, a door
    operation — never a browser's background polling.
:class:`WorkbenchKernelManager`
    starts each kernel in the sandbox (:mod:`workbench.sandbox`) with the door's socket and a kernel
    token of its own — never the database, a password or the member's login session — and binds
    that token to the kernel's processes at the door. It remembers who owns each kernel, lists
    only one's own, audits interrupts and restarts, and stops the kernels of a session that ended.
:class:`WorkbenchAuthorizer`
    lets members reach only their own kernels and sessions; terminals are refused.
:class:`AuditedKernelConnection`
    sits between the browser and the kernel, where kernel code cannot reach: every
    ``execute_request``, on any channel, is recorded (member, time, notebook, channel, source)
    before it is passed on; a message with no channel, or a debugger request (it evaluates
    code), is refused and recorded. A cell whose session has ended is not run.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import html
import json
import math
import os
import time
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from jupyter_server._tz import utcnow
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.call_context import CallContext
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    deserialize_msg_from_ws_v1,
)
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.services.sessions.sessionmanager import SessionManager
from tornado import web
from tornado.ioloop import PeriodicCallback
from traitlets import Int, Unicode

from alpr_lib.access import Policy, login
from alpr_lib.access.logon import identify, record_event, record_refusal, resume
from alpr_lib.errors import AlprError, NotAuthenticated, SecondFactorNeeded
from alpr_lib.store import Store

from . import sandbox
from .server_files import allowed
from .servers import runtime

__all__ = [
    "COOKIE",
    "AuditedKernelConnection",
    "WorkbenchAuthorizer",
    "WorkbenchIdentityProvider",
    "WorkbenchKernelManager",
    "WorkbenchSessionManager",
]

COOKIE = "workbench-session"
_MAX_CELL = 20_000  # characters of a cell's source kept in its audit entry
_REFILL_AFTER_S = 5.0  # kept kernels are refilled this long after the last member took one
_IDLE_CHECK_MS = 10_000  # how often the kernels of ended sessions are looked for (one indexed query each)


def door() -> tuple[Store, Policy]:
    """The server's store and policy."""
    run = runtime()
    return run.store, run.policy


def _client() -> str:
    return runtime().client


def session_token(handler: web.RequestHandler) -> str | None:
    """The workbench session token in the request's signed cookie, if any."""
    value = handler.get_secure_cookie(COOKIE, max_age_days=1)
    return value.decode() if value else None


def _safe_next(handler: JupyterHandler, target: str | None) -> str:
    """Only a path on this server: never another host (an open redirect). Browsers drop tabs and line
    breaks from a URL and read a backslash as a slash, so ``/\t/evil.example`` is ``//evil.example``, another
    site: a target holding any control character, space or backslash, a scheme or a host goes to the front
    page instead."""
    base = handler.base_url
    if (
        not target
        or len(target) > 2000
        or not target.startswith(base)
        or target.startswith("//")
        or any(ch.isspace() or ch == "\\" or unicodedata.category(ch)[0] == "C" for ch in target)
    ):
        return base
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return base
    return target


#: Failed logons from one client address before it must wait, and for how long (seconds).
THROTTLE_FAILURES = 10
THROTTLE_SECONDS = 600
_failures: dict[str, collections.deque[float]] = {}


def client_address(handler: web.RequestHandler) -> str:
    """The client's address: the peer's, or the one a trusted proxy (setting trusted_proxies) names."""
    peer = handler.request.remote_ip or ""
    if peer in runtime().trusted_proxies:
        forwarded = handler.request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        return forwarded[:64] or peer
    return peer


def _over_https(handler: web.RequestHandler) -> bool:
    """Served over TLS, here or by a trusted proxy that says so (X-Forwarded-Proto: https)."""
    request = handler.request
    if request.protocol == "https":
        return True
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.remote_ip in runtime().trusted_proxies and proto == "https"


def _throttled(address: str, now: float) -> bool:
    recent = _failures.get(address)
    while recent and recent[0] < now - THROTTLE_SECONDS:
        recent.popleft()
    return bool(recent) and len(recent) >= THROTTLE_FAILURES


def _failed(address: str, now: float) -> None:
    _failures.setdefault(address, collections.deque()).append(now)
    if len(_failures) > 10_000:  # addresses long quiet are forgotten
        for key in [k for k, v in _failures.items() if not v or v[-1] < now - THROTTLE_SECONDS]:
            del _failures[key]


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ALPR Workbench · {title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ font-family: system-ui, sans-serif; background: #f3f4f6; margin: 0; }}
 main {{ max-width: 26rem; margin: 8vh auto; background: #fff; padding: 2rem 2.2rem; border-radius: 8px;
        box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
 h1 {{ font-size: 1.3rem; margin: 0 0 .2rem; }} p.sub {{ color: #555; margin: 0 0 1.4rem; }}
 label {{ display: block; font-weight: 600; margin: .8rem 0 .3rem; }}
 input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box; padding: .55rem;
        font-size: 1rem; border: 1px solid #bbb; border-radius: 4px; }}
 button {{ margin-top: 1.3rem; width: 100%; padding: .65rem; font-size: 1rem; background: #1d4ed8;
        color: #fff; border: 0; border-radius: 4px; cursor: pointer; }}
 .error {{ background: #fee2e2; color: #991b1b; padding: .6rem .8rem; border-radius: 4px; }}
 .info {{ background: #e0f2fe; color: #075985; padding: .6rem .8rem; border-radius: 4px; }}
 .notice {{ font-size: .85rem; color: #555; margin-top: 1.6rem; border-top: 1px solid #eee;
        padding-top: 1rem; }}
</style></head>
<body><main>
<h1>ALPR Workbench</h1><p class="sub">{subtitle}</p>
{body}
<p class="notice">ALPR data is confidential and for official law-enforcement use only.
Every access is recorded by name, date and time, with its purpose and case.</p>
</main></body></html>"""


#: A logon whose password was right and whose authenticator code is awaited: the door's proof of it.
_PENDING_COOKIE = "workbench-pending"


def _end_session(token: str) -> None:
    """Log the session holding ``token`` out (nothing to do when it has already ended)."""
    store, policy = door()
    try:
        resume(store, token, client=_client(), policy=policy).logout()
    except NotAuthenticated:
        pass


def _note(message: str, kind: str = "error") -> str:
    """A message above a form (``error`` or ``info``), escaped; nothing when there is none."""
    return f'<p class="{kind}" role="alert">{html.escape(message)}</p>' if message else ""


def _set_cookie(handler: JupyterHandler, name: str, value: str) -> None:
    options = {
        "httponly": True,
        "samesite": "Strict",
        "path": handler.base_url,
        **handler.identity_provider.cookie_options,
    }
    if _over_https(handler):
        options["secure"] = True
    handler.set_secure_cookie(name, value, expires_days=None, **options)


class WorkbenchLoginHandler(JupyterHandler):
    """The login page: user name and password of a workbench member, then — for a member who enrolled an
    authenticator — its six-digit code on a second page."""

    def _form(self, message: str = "", kind: str = "error", name: str = "") -> None:
        note = _note(message, kind)
        body = f"""{note}
<form method="post" action="{html.escape(self.request.uri or "")}" autocomplete="off">
 {self.xsrf_form_html()}
 <label for="username">User name</label>
 <input type="text" id="username" name="username" value="{html.escape(name)}" required autofocus>
 <label for="password">Password</label>
 <input type="password" id="password" name="password" required>
 <button type="submit" id="login_submit">Log in</button>
</form>"""
        self.write(_PAGE.format(title="Log in", subtitle="Log in with your workbench account.", body=body))

    def _code_form(self, message: str = "") -> None:
        note = _note(message)
        body = f"""{note}
<form method="post" action="{html.escape(self.request.uri or "")}" autocomplete="off">
 {self.xsrf_form_html()}
 <label for="code">Code from your authenticator app</label>
 <input type="text" id="code" name="code" inputmode="numeric" pattern="[0-9 ]{{6,7}}" maxlength="7" required
  autofocus autocomplete="one-time-code">
 <button type="submit" id="code_submit">Continue</button>
</form>"""
        self.write(_PAGE.format(title="Code", subtitle="Second step: your authenticator's code.", body=body))

    @allow_unauthenticated
    def get(self) -> None:
        if self.current_user:
            self.redirect(_safe_next(self, self.get_argument("next", None)))
            return
        self._form()

    @allow_unauthenticated
    async def post(self) -> None:
        store, policy = door()
        address, now = client_address(self), time.monotonic()
        if _throttled(address, now):
            # Before any password is checked: one address cannot guess on, nor lock members out for long.
            await asyncio.to_thread(
                record_refusal, store, client=_client(), operation="logon", user_name=None,
                params={"address": address}, detail="too many failed logons from this address",
            )  # fmt: skip
            self.set_status(429)
            self._form("Too many failed logons from this computer; wait 10 minutes and try again.")
            return
        pending = self.get_secure_cookie(_PENDING_COOKIE, max_age_days=1)
        self.clear_cookie(_PENDING_COOKIE, path=self.base_url)
        try:
            if pending and self.get_argument("code", None) is not None:
                code = self.get_argument("code", "")[:20]
                session = await asyncio.to_thread(
                    login, store, "", "", otp=code, proof=pending.decode(), client=_client(), policy=policy
                )
            else:
                name = self.get_argument("username", "").strip()[:200]
                password = self.get_argument("password", "")[:1000]
                # The password hash is slow on purpose: checked off the event loop, so that twenty members
                # logging in together do not stall each other's pages.
                session = await asyncio.to_thread(
                    login, store, name, password, client=_client(), policy=policy
                )
        except SecondFactorNeeded as needed:
            _set_cookie(self, _PENDING_COOKIE, needed.proof or "")
            self._code_form()
            return
        except NotAuthenticated as exc:
            _failed(address, now)
            self.set_status(401)
            self._form(str(exc), name="")
            return
        except AlprError:
            self.set_status(503)
            self._form("The workbench database cannot be reached; ask an administrator.")
            return
        # A new session at every login (no fixation): a session the browser already held ends here.
        earlier = session_token(self)
        if earlier:
            with contextlib.suppress(AlprError):
                await asyncio.to_thread(_end_session, earlier)
        _set_cookie(self, COOKIE, session.token)
        if sandbox.PLAN is not None:
            sandbox.PLAN.member_folder(session.name)
        state = session.account_state()
        target = _safe_next(self, self.get_argument("next", None))
        if state["must_change_password"]:
            target = f"{self.base_url}password?{urlencode({'next': target})}"
        elif state["must_enrol"]:
            target = f"{self.base_url}mfa?{urlencode({'next': target})}"
        self.redirect(target)


class _AccountHandler(JupyterHandler):
    """A page about the logged-in member's own account."""

    def _session(self) -> Any:
        store, policy = door()
        token = session_token(self)
        if not token:
            raise web.HTTPError(403)
        return resume(store, token, client=_client(), policy=policy)

    def _page(self, title: str, subtitle: str, body: str, message: str = "", kind: str = "error") -> None:
        note = _note(message, kind)
        self.write(_PAGE.format(title=title, subtitle=subtitle, body=note + body))

    def _done(self, message: str) -> None:
        target = html.escape(_safe_next(self, self.get_argument("next", None)))
        self._page(
            "Done", "Your account.", f'<p><a id="continue" href="{target}">Continue</a></p>', message, "info"
        )


class WorkbenchPasswordHandler(_AccountHandler):
    """A member changes their own password (the current one required): after an administrator's reset before
    anything else, or whenever they choose."""

    def _form(self, message: str = "") -> None:
        body = f"""<form method="post" action="{html.escape(self.request.uri or "")}" autocomplete="off">
 {self.xsrf_form_html()}
 <label for="current">Current password</label>
 <input type="password" id="current" name="current" required autofocus>
 <label for="new">New password</label>
 <input type="password" id="new" name="new" required minlength="12">
 <label for="again">New password again</label>
 <input type="password" id="again" name="again" required minlength="12">
 <button type="submit" id="password_submit">Change password</button>
</form><p class="notice">At least 12 characters, not on the lists of breached passwords, not easy to guess: a
phrase of several unrelated words is easy to remember and hard to guess.</p>"""
        self._page("Password", "Choose your own password.", body, message)

    @web.authenticated
    def get(self) -> None:
        self._form()

    @web.authenticated
    async def post(self) -> None:
        new = self.get_argument("new", "")[:1000]
        if new != self.get_argument("again", "")[:1000]:
            self._form("The two new passwords differ.")
            return
        current = self.get_argument("current", "")[:1000]
        try:
            # The password hashes are slow on purpose: computed off the event loop, like every database call.
            await asyncio.to_thread(lambda: self._session().change_password(current, new))
        except NotAuthenticated as exc:
            self.set_status(400)
            self._form(str(exc))
            return
        except AlprError as exc:
            self.set_status(400)
            self._form(str(exc))
            return
        self._done("Your password is changed; your other sessions ended.")


class WorkbenchMfaHandler(_AccountHandler):
    """A member enrols an authenticator app: its QR code (drawn here, nothing fetched), then its first
    code."""

    @web.authenticated
    async def get(self) -> None:
        from alpr_lib.access.mfa import qr_svg

        try:
            started = await asyncio.to_thread(lambda: self._session().begin_mfa())
        except AlprError as exc:
            self._page("Second factor", "Enrol an authenticator app.", "", str(exc))
            return
        secret = html.escape(started["secret"])
        body = f"""<p>Scan this code with your authenticator app, or type the secret into it, then give the
code it shows.</p><div id="qr">{qr_svg(started["uri"])}</div><p>Secret: <code id="secret">{secret}</code></p>
<form method="post" action="{html.escape(self.request.uri or "")}" autocomplete="off">
 {self.xsrf_form_html()}
 <label for="code">Code from your authenticator app</label>
 <input type="text" id="code" name="code" inputmode="numeric" maxlength="7" required autofocus>
 <button type="submit" id="mfa_submit">Enrol</button>
</form>"""
        self._page("Second factor", "Enrol an authenticator app.", body)

    @web.authenticated
    async def post(self) -> None:
        code = self.get_argument("code", "")[:20]
        try:
            await asyncio.to_thread(lambda: self._session().confirm_mfa(code))
        except AlprError as exc:
            self.set_status(400)
            self._page(
                "Second factor",
                "Enrol an authenticator app.",
                f'<p><a href="{html.escape(self.request.uri or "")}">Try again</a></p>',
                str(exc),
            )
            return
        self._done("Authenticator enrolled: every login now asks for its code.")


class WorkbenchLogoutHandler(JupyterHandler):
    """Ends the workbench session everywhere (browser, kernels) and shows the login link."""

    @allow_unauthenticated
    async def get(self) -> None:
        token = session_token(self)
        if token:
            await asyncio.to_thread(_end_session, token)
        self.clear_cookie(COOKIE, path=self.base_url)
        body = (
            f'<p class="info">You are logged out.</p><p><a href="{self.base_url}login">Log in again</a></p>'
        )
        self.write(_PAGE.format(title="Logged out", subtitle="Session ended.", body=body))


class WorkbenchIdentityProvider(IdentityProvider):
    """Jupyter's identity provider backed by the workbench users and sessions."""

    need_token = False
    cookie_name = Unicode(COOKIE)

    @property
    def auth_enabled(self) -> bool:
        return True

    @property
    def login_available(self) -> bool:
        return True

    def get_handlers(self) -> list[tuple[str, object]]:
        # Given here, not through login_handler_class: Voila sets that to its own password-only page.
        from .server_pages import handlers
        from .servers import _RUNTIME

        # The front page replaces Voila's listing of notebook files on the dashboards' server.
        dashboards = _RUNTIME is not None and _RUNTIME.client.startswith("dash")
        return [
            (r"/login", WorkbenchLoginHandler),
            (r"/logout", WorkbenchLogoutHandler),
            (r"/password", WorkbenchPasswordHandler),
            (r"/mfa", WorkbenchMfaHandler),
            *handlers(dashboards),
        ]

    async def get_user(self, handler: web.RequestHandler) -> User | None:  # type: ignore[override]
        known = getattr(handler, "_jupyter_current_user", None)
        if known:
            return known  # type: ignore[no-any-return]
        token = session_token(handler)
        if not token:
            return None
        store, policy = door()
        # Off the event loop: a request waiting on the database must not hold up every member's pages.
        member = await asyncio.to_thread(
            identify, store, token, client=_client(), policy=policy, touch=_member_action(handler)
        )
        if member is None:
            handler.clear_cookie(COOKIE, path=handler.base_url)  # type: ignore[attr-defined]
            return None
        return User(username=member.name, name=member.name, display_name=f"{member.name} ({member.role})")

    def validate_security(self, app: Any, ssl_options: dict[str, Any] | None = None) -> None:
        if app.ip not in ("127.0.0.1", "localhost", "::1") and ssl_options is None:
            app.log.warning(
                "The workbench is listening beyond this machine without TLS: put it behind HTTPS."
            )


def _member_action(handler: web.RequestHandler) -> bool:
    """Whether a request is a member opening a page (it resets the idle clock); a browser's background
    requests — the API, static files, polling — are not."""
    request = handler.request
    if request.method != "GET" or "text/html" not in request.headers.get("Accept", ""):
        return False
    path = request.path or ""
    return not any(part in path for part in ("/api/", "/static/", "/lab/extensions/", "/files/"))


def _current() -> tuple[str | None, str | None]:
    """The user name and session token of the request being handled, if any."""
    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    if handler is None:
        return None, None
    user = handler.current_user
    return (user.username if user else None), session_token(handler)


class WorkbenchKernelManager(AsyncMappingKernelManager):
    """Kernels in the sandbox, bound to their member at the door, listed to their member only.

    With ``ready_kernels`` > 0 (``workbench serve``: the setting of that name) it keeps that many dashboard
    kernels started and warmed — sandboxed, the workbench imported, holding a token the door refuses —
    before any member asks. A member opening a dashboard is handed one (bound to them at the door, audited
    as any kernel start); the pool is refilled once members stop arriving, one kernel at a time, so that
    members' pages keep the processor (at once when none is left). A kept kernel has run nothing but the
    import; it is given to one member and never to another.
    """

    owners: dict[str, str]
    ready_kernels = Int(
        0, config=True, help="Dashboard kernels kept started and warmed for members who have not arrived yet."
    )
    #: What a kernel kept ready runs before any member has it: the dashboards' imports, nothing else.
    WARM_CODE = "import workbench.ui"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.owners = {}
        self._tokens: dict[str, str] = {}
        self._idle_check: PeriodicCallback | None = None
        self._ready: dict[tuple[str, str], list[asyncio.Task[str]]] = {}
        self._refill: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._warming = asyncio.Semaphore(max(1, (os.cpu_count() or 2) // 2))
        if self.ready_kernels > 0:
            # The dashboards' folder (the server's root), with the kernel the dashboards name; filled once
            # the server runs.
            asyncio.get_event_loop().call_soon(self._fill, (self.default_kernel_name, ""))

    def _pid(self, kernel_id: str) -> int | None:
        try:
            return self.get_kernel(kernel_id).provisioner.pid  # type: ignore[no-any-return]
        except (KeyError, AttributeError):
            return None

    # -- kernels kept ready ---------------------------------------------------------------------

    def _fill(self, key: tuple[str, str]) -> None:
        pool = self._ready.setdefault(key, [])
        while len(pool) < self.ready_kernels:
            pool.append(asyncio.ensure_future(self._warm(*key)))

    async def _warm(self, kernel_name: str, path: str) -> str:
        """Start a kernel for no one yet, in the sandbox, and run :attr:`WARM_CODE` in it."""
        async with self._warming:
            run = runtime()
            kernel_id = self.new_kernel_id()
            kernel_token = run.service.kernels.reserve(kernel_id, pid_of=lambda: self._pid(kernel_id))
            env = sandbox.kernel_env(
                {},
                {
                    "WORKBENCH_DOOR": sandbox.DOOR_SOCKET if run.protected else str(run.service.path),
                    "WORKBENCH_KERNEL_TOKEN": kernel_token,
                },
            )
            try:
                kid: str = await super().start_kernel(
                    kernel_id=kernel_id, path=path, kernel_name=kernel_name, env=env,
                )  # fmt: skip
                if not isinstance(self.get_kernel(kid).provisioner, sandbox.SandboxProvisioner):
                    await super().shutdown_kernel(kid, now=True)
                    raise RuntimeError("a kernel kept ready did not start in the workbench sandbox")
                await _run_quietly(self.get_kernel(kid), self.WARM_CODE)
            except BaseException:
                run.service.kernels.unregister(kernel_id)
                if kernel_id in self:
                    await super().shutdown_kernel(kernel_id, now=True)
                raise
        pool = self._ready.get((kernel_name, path), [])
        if sum(t.done() for t in pool) == len(pool) - 1:  # this one is the last still warming
            self.log.info("Dashboard kernels ready: %d", len(pool))
        return kid

    async def _take_ready(self, kernel_name: str, path: str | None) -> str | None:
        """A kernel kept ready for this dashboard folder, removed from the pool (None: none kept there)."""
        key = (kernel_name, (path or "").strip("/"))
        pool = self._ready.get(key)
        if not pool:
            return None
        task = next((t for t in pool if t.done() and not t.cancelled() and t.exception() is None), pool[0])
        pool.remove(task)
        # While kernels are left, refill once members stop arriving (their pages keep the processor); with
        # none left, start the next one now.
        waiting = self._refill.pop(key, None)
        if waiting is not None:
            waiting.cancel()
        if pool:
            self._refill[key] = asyncio.get_event_loop().call_later(_REFILL_AFTER_S, self._fill, key)
        else:
            self._fill(key)
        try:
            kid = await task
        except Exception as exc:  # noqa: BLE001 - a kernel that failed to warm: start one the usual way
            self.log.warning("A kernel kept ready failed (%s); starting another.", type(exc).__name__)
            return None
        if kid not in self or not await self.get_kernel(kid).is_alive():
            return None
        return kid

    def _is_kept(self, kernel_id: str) -> bool:
        return kernel_id not in self.owners and any(
            t.done() and not t.cancelled() and t.exception() is None and t.result() == kernel_id
            for pool in self._ready.values()
            for t in pool
        )

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        if self._is_kept(kernel_id):
            return  # kept ready: idle by design, never culled
        await super().cull_kernel_if_idle(kernel_id)

    # -- a member's kernel ------------------------------------------------------------------------

    async def start_kernel(
        self, *, kernel_id: str | None = None, path: str | None = None, **kwargs: Any
    ) -> str:
        name, token = _current()
        if not name or not token:
            raise web.HTTPError(403, "log in to start a kernel")
        run = runtime()
        given = kwargs.get("env") or {}
        # Lab's session manager names the notebook, Voila the page in SCRIPT_NAME; path is only its folder.
        notebook = given.get("WORKBENCH_NOTEBOOK") or given.get("SCRIPT_NAME") or path
        try:
            await asyncio.to_thread(
                record_event,
                run.store,
                token,
                client=run.client,
                operation="kernel.start",
                params={"notebook": notebook},
                policy=run.policy,
            )
        except NotAuthenticated as exc:
            raise web.HTTPError(403, str(exc)) from None
        if kernel_id is None and self._ready:
            kid = await self._take_ready(kwargs.get("kernel_name") or self.default_kernel_name, path)
            if kid is not None:
                self.log.info("A dashboard kernel kept ready is given to a member: %s", kid)
                run.service.kernels.bind(kid, name, token)
                self.get_kernel(kid).last_activity = utcnow()
                return self._owned(kid, name, token)
        kernel_id = kernel_id or self.new_kernel_id(**kwargs)
        kernel_token = run.service.kernels.register(
            kernel_id, name, token, pid_of=lambda: self._pid(kernel_id)
        )
        kwargs["env"] = sandbox.kernel_env(
            given,
            {
                "WORKBENCH_DOOR": sandbox.DOOR_SOCKET if run.protected else str(run.service.path),
                "WORKBENCH_KERNEL_TOKEN": kernel_token,
                "WORKBENCH_MEMBER": name,
            },
        )
        try:
            kid: str = await super().start_kernel(kernel_id=kernel_id, path=path, **kwargs)
        except PermissionError:
            # The sandbox has no such folder for this member: another member's, or none of theirs.
            run.service.kernels.unregister(kernel_id)
            record_refusal(
                run.store, client=run.client, operation="kernel.start", user_name=name,
                params={"notebook": notebook}, detail="a kernel in a folder the member may not use",
            )  # fmt: skip
            raise web.HTTPError(
                403, "a kernel starts only in your own folder or the shipped notebooks"
            ) from None
        except Exception:
            run.service.kernels.unregister(kernel_id)
            raise
        if not isinstance(self.get_kernel(kid).provisioner, sandbox.SandboxProvisioner):
            # Fail closed: a kernel started any other way is outside the sandbox.
            await self.shutdown_kernel(kid, now=True)
            raise web.HTTPError(500, "the kernel did not start in the workbench sandbox")
        return self._owned(kid, name, token)

    def _owned(self, kid: str, name: str, token: str) -> str:
        self.owners[kid] = name
        self._tokens[kid] = token
        if self._idle_check is None:
            self._idle_check = PeriodicCallback(self._stop_ended, _IDLE_CHECK_MS)
            self._idle_check.start()
        return kid

    async def _stop_ended(self) -> None:
        """Stop the kernels whose member's session has ended (idle, expired, logged out, disabled)."""
        run = runtime()
        for kid, token in list(self._tokens.items()):
            live = await asyncio.to_thread(identify, run.store, token, client=run.client, policy=run.policy)
            if live is None and kid in self._tokens:
                self.log.info("Stopping a kernel: its member's session has ended.")
                await self.shutdown_kernel(kid, now=True)

    async def shutdown_kernel(self, kernel_id: str, now: bool = False, restart: bool = False) -> None:
        await super().shutdown_kernel(kernel_id, now=now, restart=restart)
        runtime().service.kernels.unregister(kernel_id)
        self.owners.pop(kernel_id, None)
        self._tokens.pop(kernel_id, None)

    async def restart_kernel(self, kernel_id: str, now: bool = False) -> None:
        await _audit_kernel_event(self, kernel_id, "kernel.restart")
        await super().restart_kernel(kernel_id, now=now)

    async def interrupt_kernel(self, kernel_id: str) -> Any:
        await _audit_kernel_event(self, kernel_id, "kernel.interrupt")
        return await super().interrupt_kernel(kernel_id)

    def owner(self, kernel_id: str) -> str | None:
        return self.owners.get(kernel_id)

    def list_kernels(self) -> list[dict[str, Any]]:
        name, _token = _current()
        return [k for k in super().list_kernels() if name is None or self.owners.get(k["id"]) == name]


async def _run_quietly(km: Any, code: str, timeout: float = 120) -> None:
    """Run ``code`` in a kernel from the server (no history, no output kept); raise if it fails."""
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=timeout)
        msg_id = client.execute(code, silent=True, store_history=False)
        while True:
            reply = await client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"the kernel could not run its warm-up ({reply['content'].get('ename')})")
    finally:
        client.stop_channels()


async def _audit_kernel_event(km: WorkbenchKernelManager, kernel_id: str, operation: str) -> None:
    """Audit an interrupt or restart asked for by a member (refused when their session has ended)."""
    _name, token = _current()
    token = token or km._tokens.get(kernel_id)
    run = runtime()
    if not token:
        raise web.HTTPError(403, "log in first")
    try:
        await asyncio.to_thread(
            record_event, run.store, token, client=run.client, operation=operation,
            params={"kernel": kernel_id}, policy=run.policy,
        )  # fmt: skip
    except NotAuthenticated as exc:
        raise web.HTTPError(403, str(exc)) from None


class WorkbenchSessionManager(SessionManager):
    """Notebook sessions listed to the member who owns their kernel only; a session (and its kernel) is
    opened only on the member's own notebooks or the shipped ones."""

    def _check(self, path: str | None) -> None:
        name, _token = _current()
        if name is None or path is None or allowed(name, path, write=False):
            return
        run = runtime()
        record_refusal(
            run.store, client=run.client, operation="kernel.start", user_name=name,
            params={"notebook": path[:400]}, detail="a notebook the member may not open",
        )  # fmt: skip
        raise web.HTTPError(403, "that notebook is not yours to open")

    async def session_exists(self, path: str) -> bool:
        self._check(path)
        return bool(await super().session_exists(path))

    async def create_session(self, path: str | None = None, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._check(path)
        kernel_id = kwargs.get("kernel_id")
        owner = getattr(self.kernel_manager, "owner", lambda _kid: None)
        if kernel_id and owner(kernel_id) != _current()[0]:
            raise web.HTTPError(403, "that kernel is not yours")
        return await super().create_session(path, *args, **kwargs)  # type: ignore[no-any-return]

    def get_kernel_env(self, path: str | None, name: str | None = None) -> dict[str, str]:
        # The notebook's path as the member sees it, for the kernel's audit entry.
        return {**super().get_kernel_env(path, name), "WORKBENCH_NOTEBOOK": path or ""}

    async def list_sessions(self) -> list[dict[str, Any]]:
        name, _token = _current()
        owner = getattr(self.kernel_manager, "owner", lambda _kid: None)
        sessions: list[dict[str, Any]] = await super().list_sessions()
        return [m for m in sessions if name is None or owner(m["kernel"]["id"]) == name]


class WorkbenchAuthorizer(Authorizer):
    """Members reach only their own kernels and sessions; nobody opens a terminal."""

    async def is_authorized(self, handler: JupyterHandler, user: User, action: str, resource: str) -> bool:
        if resource == "terminals":
            return False
        if resource not in ("kernels", "sessions"):
            return True
        km = handler.kernel_manager
        kwargs = getattr(handler, "path_kwargs", None) or {}
        args = getattr(handler, "path_args", None) or []
        kernel_id = kwargs.get("kernel_id") or getattr(handler, "kernel_id", None)
        session_id = kwargs.get("session_id")
        if resource == "sessions" and not kernel_id and (session_id or args):
            try:
                model = await handler.session_manager.get_session(session_id=session_id or args[0])
            except web.HTTPError:
                return True  # an unknown session: let the handler answer 404
            kernel_id = model["kernel"]["id"]
        if resource == "kernels" and not kernel_id and args:
            kernel_id = args[0]
        if not kernel_id:
            return True  # listing or starting: lists are filtered, new kernels are the member's own
        owner = getattr(km, "owner", lambda _kid: None)(kernel_id)
        return owner is None and kernel_id not in km or owner == user.username


def _peek(connection: ZMQChannelsWebsocketConnection, message: Any) -> tuple[str | None, dict, dict]:
    """Channel, header and content of a browser-to-kernel message, in any of the wire formats."""
    if connection.subprotocol == "v1.kernel.websocket.jupyter.org":
        channel, parts = deserialize_msg_from_ws_v1(message)
        return channel, connection.session.unpack(parts[0]), connection.session.unpack(parts[3])
    msg = deserialize_binary_message(message) if isinstance(message, bytes) else json.loads(message)
    return msg.get("channel"), msg.get("header") or {}, msg.get("content") or {}


_CHANNELS = ("shell", "control", "stdin")
#: Messages that make a kernel run code a member wrote: recorded before they pass.
_RUNS_CODE = ("execute_request",)
#: Messages refused outright: the debugger evaluates arbitrary code outside the cell audit.
_REFUSED = ("debug_request",)
#: Messages recorded as kernel events.
_EVENTS = {"interrupt_request": "kernel.interrupt", "shutdown_request": "kernel.shutdown"}
#: How often a dashboard's widget events check the member's session and reset their idle clock (s).
_WIDGET_CHECK_EVERY_S = 5.0


class AuditedKernelConnection(ZMQChannelsWebsocketConnection):
    """The browser-to-kernel channel: code is recorded before it reaches the kernel, or refused."""

    notebook: str | None = None
    _waiting: list[Any] | None = None  # messages held, in order, behind a check under way
    _draining: asyncio.Task[None] | None = None  # held: the event loop keeps only a weak reference
    _closed = False
    _checked_at = -math.inf  # when a widget event last checked the member's session (monotonic s)

    async def prepare(self) -> None:
        await super().prepare()
        try:
            model = await self.websocket_handler.session_manager.get_session(kernel_id=self.kernel_id)
            self.notebook = model.get("path")
        except Exception:  # no notebook session (a console, a bare kernel): the kernel id says enough
            self.notebook = None

    def handle_incoming_message(self, incoming_msg: Any) -> None:
        """Pass a browser's message to the kernel — at once when it needs no check, else after its check
        (an audit entry, the member's session) has run off the event loop. Messages keep their order: those
        arriving during a check wait behind it."""
        if self._closed:
            return
        if self._waiting is not None:
            self._waiting.append(incoming_msg)
            return
        check = self._check(incoming_msg)
        if check is None:
            super().handle_incoming_message(incoming_msg)
            return
        self._waiting = [incoming_msg]
        self._draining = asyncio.get_running_loop().create_task(self._pass_in_order(check))

    async def _pass_in_order(self, check: Callable[[], str] | None) -> None:
        waiting = self._waiting
        assert waiting is not None
        while waiting:  # ``check`` is the first waiting message's (None: it needs none)
            try:
                verdict = await asyncio.to_thread(check) if check is not None else "pass"
            except Exception:  # the check itself failed (the database is unreachable): fail closed
                self.log.warning("A kernel message could not be checked; the channel is closed.")
                verdict = "close"
            if verdict == "close":
                self._closed = True
                self.log.warning(
                    "A message was not passed to a kernel: the session has ended or cannot be audited."
                )
                self.websocket_handler.close(4001, "session ended; log in again")
                return
            message = waiting.pop(0)
            if verdict == "pass" and self.websocket_handler.ws_connection is not None:
                super().handle_incoming_message(message)
            check = self._check(waiting[0]) if waiting else None
        self._waiting = None

    def _check(self, incoming_msg: Any) -> Callable[[], str] | None:
        """What must run before a message passes (``pass``, ``drop`` or ``close``), or None: it may pass.

        Code and kernel events are recorded first (not recorded, not run); the debugger and messages on no
        channel are refused and the refusal recorded; a widget event checks the member's session and
        resets their idle clock, at most every few seconds (the door checks the session at each search)."""
        try:
            channel, header, content = _peek(self, incoming_msg)
        except Exception:
            channel, header, content = "unreadable", {}, {}
        token = session_token(self.websocket_handler)
        msg_type = str(header.get("msg_type", ""))
        allowed = self.multi_kernel_manager.allowed_message_types  # Voila's: widget messages only
        if channel not in _CHANNELS or msg_type in _REFUSED or (allowed and msg_type not in allowed):
            why = f"a {msg_type or 'message'} on {'no channel' if channel is None else 'the ' + str(channel)}"
            params = {"channel": channel, "msg_type": msg_type[:40]}
            user = self.websocket_handler.current_user
            name = user.username if user else _current()[0]
            return lambda: self._refuse(name, why, params)
        if msg_type in _RUNS_CODE or msg_type in _EVENTS:
            code = str(content.get("code", ""))
            params: dict[str, Any] = {"notebook": self.notebook, "kernel": self.kernel_id, "channel": channel}
            if msg_type in _RUNS_CODE:
                params |= {"code": code[:_MAX_CELL], "truncated": len(code) > _MAX_CELL}
            else:
                params |= {"restart": bool(content.get("restart"))}
            operation = "cell.execute" if msg_type in _RUNS_CODE else _EVENTS[msg_type]
            return lambda: "pass" if self._record(token, operation, params) else "close"
        if msg_type == "comm_msg" and token:
            now = time.monotonic()
            if now - self._checked_at < _WIDGET_CHECK_EVERY_S:
                return None
            self._checked_at = now
            # A dashboard widget event is a member's action: it resets the idle clock.
            run = runtime()
            live = functools.partial(
                identify, run.store, token, client=run.client, policy=run.policy, touch=True
            )
            return lambda: "pass" if live() is not None else "close"
        return None

    def _refuse(self, name: str | None, why: str, params: dict[str, Any]) -> str:
        run = runtime()
        record_refusal(
            run.store, client=run.client, operation="kernel.message", detail=why,
            user_name=name, params={"kernel": self.kernel_id, **params},
        )  # fmt: skip
        self.log.warning("A message to a kernel was refused: %s.", why)
        return "drop"

    def _record(self, token: str | None, operation: str, params: dict[str, Any]) -> bool:
        """Audit a message before it passes; False when it cannot be (the session ended, or the audit
        could not be written): not audited means not run."""
        run = runtime()
        try:
            if not token:
                raise NotAuthenticated("no session")
            record_event(
                run.store, token, client=run.client, operation=operation, params=params, policy=run.policy
            )
        except AlprError:
            return False
        return True
