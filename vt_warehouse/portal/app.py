"""The organisations' portal (Starlette): log in with a password and a mandatory TOTP second factor, upload a
delivery and see its verdict, list one's own deliveries and fetch their quality reports; the warehouse's own
staff (role beheer) see who delivered what and the release calendar, never record data.

Every route checks the session and the role; an organisation's account reaches only objects of its own
organisation, and every other request for an object is answered like one that does not exist (404)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from loaders import referentie
from vt_warehouse.errors import keep_traceback
from vt_warehouse.layout_docs import format_html
from vt_warehouse.portal import audit, status
from vt_warehouse.portal.accounts import Accounts, Sessie
from vt_warehouse.portal.pages import CSS, qr_svg, render
from vt_warehouse.portal.totp import provisioning_uri
from vt_warehouse.portal.upload import BadUpload, UploadTooLarge, judge, receive

COOKIE, PRE_COOKIE = "vt_sessie", "vt_pre"
FORM_LIMIT, FORM_FIELDS = 8192, 20  # bytes and fields of a url-encoded form
HASHES_AT_ONCE = 2  # password hashes computed at a time: a burst of logins waits, the other pages answer
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,100}")  # the alphabet and length of every token the portal hands out
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # (no-referrer would make the browser send Origin: null on our own forms)
    "Cache-Control": "no-store",  # reports about children must not stay in a browser's or proxy's cache
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(home: Path, inbox: Path, limit: int, secure: bool = True, on_upload=None):
    """The portal's ASGI app. `on_upload`: called after each accepted upload (the worker's wake-up), so the
    verdict follows in minutes."""
    portal = Portal(home, inbox, limit, secure, on_upload)
    app = Starlette(routes=portal.routes(), exception_handlers={BadForm: bad_form, Exception: portal.server_error})
    headers = {**HEADERS, **({"Strict-Transport-Security": "max-age=31536000"} if secure else {})}
    return SecurityHeaders(app, headers)  # outermost: Starlette's own error responses carry the headers too


def client(request: Request) -> str:
    return request.client.host if request.client else "-"


def page(name: str, status_code: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(render(name, **context), status_code=status_code)


async def form(request: Request) -> dict[str, str]:
    """A url-encoded form of at most FORM_LIMIT bytes and FORM_FIELDS fields; BadForm otherwise."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise BadForm("het formulier is te groot")
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=FORM_FIELDS)
    except ValueError:
        raise BadForm("het formulier heeft te veel velden") from None
    return {k: v[0] for k, v in fields.items()}


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == request.headers.get("host")


def refused(s: Sessie | None = None) -> HTMLResponse:
    return page(
        "fout.html",
        403,
        titel="Geweigerd",
        sessie=s,
        melding="Het formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw.",
    )


def to_login() -> RedirectResponse:
    return RedirectResponse("/inloggen", status_code=303)


def not_found(s: Sessie | None) -> HTMLResponse:
    return page("fout.html", 404, titel="Niet gevonden", sessie=s, melding="Deze pagina of dit bestand bestaat niet.")


async def css(_request: Request) -> Response:
    return Response(CSS, media_type="text/css")


async def bad_form(request: Request, exc: Exception) -> Response:
    return page("fout.html", 400, titel="Onleesbaar", sessie=None, melding=f"{exc}; er is niets gedaan.")


class Portal:
    """The portal's state (its folders, accounts and limits) and its routes, one method each; every route
    checks the session and the role."""

    def __init__(self, home: Path, inbox: Path, limit: int, secure: bool = True, on_upload=None):
        self.home, self.inbox, self.limit, self.secure, self.on_upload = (
            Path(home),
            Path(inbox),
            limit,
            secure,
            on_upload,
        )
        self.accounts = Accounts(self.home)
        self.limiter: list[anyio.CapacityLimiter] = []  # made in the event loop, at the first login

    def routes(self) -> list[Route]:
        return [
            Route("/portal.css", css),
            Route("/inloggen", self.login, methods=["GET", "POST"]),
            Route("/tweede-factor", self.second_factor, methods=["GET", "POST"]),
            Route("/uitloggen", self.logout, methods=["POST"]),
            Route("/", self.home_page),
            Route("/aanbieden", self.upload, methods=["POST"]),
            Route("/rapport/{levering}/{bestand}", self.report),
            Route("/beheer", self.overview),
            Route("/bestandsdefinitie", self.delivery_format),
        ]

    def set_cookie(self, response: Response, name: str, value: str) -> None:
        response.set_cookie(name, value, httponly=True, secure=self.secure, samesite="strict", path="/")

    async def hashed(self, function, *args):
        """An Argon2 hash (a tenth of a second of CPU) off the event loop, at most HASHES_AT_ONCE at a time."""
        if not self.limiter:
            self.limiter.append(anyio.CapacityLimiter(HASHES_AT_ONCE))
        return await anyio.to_thread.run_sync(function, *args, limiter=self.limiter[0])

    def session(self, request: Request, fase: str = "volledig") -> Sessie | None:
        s = self.accounts.session(request.cookies.get(COOKIE))
        return s if s is not None and s.fase == fase else None

    def deliveries_page(self, s: Sessie, verdict=None, status_code: int = 200) -> HTMLResponse:
        return page(
            "leveringen.html",
            status_code,
            titel="Leveringen",
            sessie=s,
            uitslag=verdict,
            leveringen=status.deliveries(self.home, self.inbox, s.account.vt_code),
            limiet_mb=self.limit // (1 << 20),
            verwerking=self.on_upload is not None,
        )

    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            token = secrets.token_urlsafe(24)
            response = page("login.html", titel="Inloggen", sessie=None, csrf=token)
            self.set_cookie(response, PRE_COOKIE, token)
            return response
        data = await form(request)
        if not same_origin(request) or not same_token(request.cookies.get(PRE_COOKIE), data.get("csrf")):
            return refused()
        naam = data.get("naam", "").strip().lower()[:100]
        outcome, wait = await self.hashed(self.accounts.check_password, naam, data.get("wachtwoord", "")[:1000])
        if outcome != "ok":
            audit.log(
                self.home,
                "inloggen mislukt" if outcome == "fout" else "inloggen geblokkeerd",
                naam[:40],
                client(request),
            )
            token = secrets.token_urlsafe(24)
            melding = "Onjuiste accountnaam of wachtwoord."
            if wait:
                melding += f" Probeer het over {int(wait) + 1} seconden opnieuw."
            response = page("login.html", 401, titel="Inloggen", sessie=None, csrf=token, melding=melding)
            self.set_cookie(response, PRE_COOKIE, token)
            return response
        audit.log(self.home, "wachtwoord juist", naam, client(request))
        response = RedirectResponse("/tweede-factor", status_code=303)
        self.set_cookie(response, COOKIE, self.accounts.new_session(naam, "wachtwoord"))
        response.delete_cookie(PRE_COOKIE, path="/")
        return response

    async def second_factor(self, request: Request) -> Response:
        s = self.session(request, "wachtwoord")
        if s is None:
            return to_login()
        secret = None if s.account.totp_ingesteld else self.accounts.totp_setup(s.naam)
        uri = provisioning_uri(secret, s.naam) if secret else None
        context = {
            "titel": "Tweede factor",
            "sessie": s,
            "geheim": secret,
            "uri": uri,
            "qr": qr_svg(uri) if uri else None,
        }
        if request.method == "GET":
            return page("factor.html", **context)
        data = await form(request)
        if not same_origin(request) or not same_token(s.csrf, data.get("csrf")):
            return refused()
        ok, wait = self.accounts.check_totp(s.naam, data.get("code", ""))
        if not ok:
            audit.log(self.home, "tweede factor mislukt", s.naam, client(request))
            melding = "Deze code is onjuist of al gebruikt."
            if wait:
                melding += f" Probeer het over {int(wait) + 1} seconden opnieuw."
            return page("factor.html", 401, melding=melding, **context)
        audit.log(self.home, "ingelogd", s.naam, client(request))
        self.accounts.end_session(request.cookies.get(COOKIE))  # a new token for the new privilege
        response = RedirectResponse("/", status_code=303)
        self.set_cookie(response, COOKIE, self.accounts.new_session(s.naam, "volledig"))
        return response

    async def logout(self, request: Request) -> Response:
        token = request.cookies.get(COOKIE)
        s = self.accounts.session(token)
        data = await form(request)
        if not same_origin(request) or (s is not None and not same_token(s.csrf, data.get("csrf"))):
            return refused(s)  # as every form: only the portal's own page logs its session out
        if s is not None:
            self.accounts.end_session(token)
            audit.log(self.home, "uitgelogd", s.naam, client(request))
        response = to_login()
        response.delete_cookie(COOKIE, path="/")
        return response

    async def home_page(self, request: Request) -> Response:
        s = self.session(request)
        if s is None:
            return to_login()
        if s.account.rol == "beheer":
            return RedirectResponse("/beheer", status_code=303)
        return self.deliveries_page(s)

    async def upload(self, request: Request) -> Response:
        s = self.session(request)
        if s is None:
            return to_login()
        if s.account.rol != "organisatie" or not same_origin(request):
            return page("fout.html", 403, titel="Geweigerd", sessie=s, melding="Alleen een organisatie levert aan.")

        def too_large() -> HTMLResponse:
            audit.log(self.home, "aanbieden geweigerd", s.naam, client(request), reden="te groot")
            melding = f"Het bestand is groter dan {self.limit // (1 << 20)} MB; er is niets ontvangen."
            return page("fout.html", 413, titel="Te groot", sessie=s, melding=melding)

        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit + 65536:
            return too_large()
        try:
            received = await receive(request, self.home / "portal" / "ontvangst", self.limit)
        except UploadTooLarge:
            return too_large()
        except BadUpload as exc:
            return page("fout.html", 400, titel="Geweigerd", sessie=s, melding=f"Geen bestand ontvangen: {exc}.")
        try:
            if not same_token(s.csrf, received.fields.get("csrf")):
                return refused(s)
            lists = referentie.read_organisations(self.home) or referentie.project_regions()
            # the parser is CPU work of seconds for a large file: off the event loop, so other pages still answer
            verdict = await run_in_threadpool(
                judge, received.path, s.account.vt_code, self.inbox, self.home, None, lists
            )
        finally:
            received.path.unlink(missing_ok=True)
        if verdict.accepted and self.on_upload is not None:
            self.on_upload()
        audit.log(
            self.home,
            "aangeboden" if verdict.accepted else "aanbieden geweigerd",
            s.naam,
            client(request),
            bestand=status_name(received.filename),
            levering=verdict.levering_id or "-",
            uitslag="ontvangen" if verdict.accepted else "geweigerd",
        )
        return self.deliveries_page(s, verdict, 200 if verdict.accepted else 422)

    async def report(self, request: Request) -> Response:
        s = self.session(request)
        if s is None:
            return to_login()
        levering, name = request.path_params["levering"], request.path_params["bestand"]
        own = s.account.rol == "organisatie" and levering.startswith(f"{s.account.vt_code}_")
        path = status.report_path(self.home, levering, name) if own else None
        if path is None:
            audit.log(self.home, "download geweigerd", s.naam, client(request), levering=status_name(levering)[:40])
            return not_found(s)
        audit.log(self.home, "download", s.naam, client(request), levering=levering, bestand=name)
        if name.endswith(".html"):
            return own_style(path.read_text(encoding="utf-8", errors="replace"))
        media = "text/csv" if name.endswith(".csv") else "application/json"
        return FileResponse(
            path, media_type=media, filename=f"{levering}_{name}", content_disposition_type="attachment"
        )

    async def delivery_format(self, request: Request) -> Response:
        """The delivery format, printable, for anyone logged in (it is the public specification)."""
        if self.session(request) is None:
            return to_login()
        return own_style(format_html())

    async def overview(self, request: Request) -> Response:
        s = self.session(request)
        if s is None:
            return to_login()
        if s.account.rol != "beheer":
            return not_found(s)
        all_ = status.deliveries(self.home, self.inbox)
        table: dict[tuple[str, str], list] = {}
        for lev in sorted(all_, key=lambda x: x.nummer):
            table.setdefault((lev.vt_code, lev.periode), []).append(lev)
        return page(
            "beheer.html",
            titel="Overzicht",
            sessie=s,
            overzicht=table,
            organisaties=sorted({x.vt_code for x in all_}),
            perioden=sorted({x.periode for x in all_}, reverse=True),
            kalender=status.calendar_state(self.home, date.today()),
        )

    async def server_error(self, request: Request, exc: Exception) -> Response:
        keep_traceback(exc, self.home / "logs")
        return page(
            "fout.html",
            500,
            titel="Fout",
            sessie=None,
            melding="Er ging iets mis in het portaal; het is vastgelegd voor de beheerders. Probeer het later opnieuw.",
        )


def own_style(text: str) -> HTMLResponse:
    """A page with its own <style> (a report, the format): allowed by its hash, still no inline script or style of
    anyone else."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
        for css in re.findall(r"<style[^>]*>(.*?)</style>", text, re.S)
    )
    policy = HEADERS["Content-Security-Policy"].replace("style-src 'self'", f"style-src 'self' {hashes}")
    return HTMLResponse(text, headers={"Content-Security-Policy": policy})


class BadForm(Exception):
    """A form the portal cannot read (too large, too many fields): a 400 with the reason in Dutch."""


def same_token(expected: str | None, given: str | None) -> bool:
    """Two tokens compared in constant time, over bytes of the tokens' own alphabet: anything else (absent,
    non-ASCII, too long) is simply not the token (compare_digest raises on non-ASCII text)."""
    if not expected or not given or not TOKEN.fullmatch(given):
        return False
    return secrets.compare_digest(expected.encode("ascii"), given.encode("ascii"))


def preflight(home: Path, inbox: Path) -> None:
    """Before serving: every folder the portal writes is writable (a read-only $VT_HOME stops it at start, not at
    every login). OSError naming the folder otherwise."""
    for folder in (Path(home) / "portal", Path(home) / "logs", Path(inbox)):
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".vt-portal-probe-{os.getpid()}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()


class SecurityHeaders:
    """Every response, error pages included, carries the security headers. Outermost, so that even an error in
    Starlette's own error handling ends in a page with them, and nothing reaches the server as a traceback."""

    def __init__(self, app, headers: dict[str, str]):
        self.app, self.headers = app, headers

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = MutableHeaders(scope=message)
                for k, v in self.headers.items():
                    if k not in present:
                        present[k] = v
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:  # (already answered with the Dutch error page and kept in logs/errors.log)
            if not started:
                await HTMLResponse("Fout", status_code=500)(scope, receive, send_with_headers)


def status_name(name: str | None) -> str:
    """A requested or uploaded name as the audit log may hold it."""
    from loaders.parse import shown

    return shown(name or "-")[:120]
