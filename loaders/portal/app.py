"""The organisations' portal (Starlette): log in with a password and a mandatory TOTP second factor, upload a
delivery and see its verdict, list one's own deliveries and fetch their quality reports; the warehouse's own
staff (role beheer) see who delivered what and the release calendar, never record data.

Every route checks the session and the role; an organisation's account reaches only objects of its own
organisation, and every other request for an object is answered like one that does not exist (404)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from loaders.portal import audit, status
from loaders.portal.accounts import Accounts, Sessie
from loaders.portal.pages import CSS, render
from loaders.portal.totp import provisioning_uri
from loaders.portal.upload import BadUpload, UploadTooLarge, judge, receive

COOKIE, PRE_COOKIE = "vt_sessie", "vt_pre"
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # (no-referrer would make the browser send Origin: null on our own forms)
    "Cache-Control": "no-store",  # reports about children must not stay in a browser's or proxy's cache
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(home: Path, inbox: Path, limit: int, secure: bool = True) -> Starlette:
    home, inbox = Path(home), Path(inbox)
    accounts = Accounts(home)

    def client(request: Request) -> str:
        return request.client.host if request.client else "-"

    def page(name: str, status_code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(render(name, **context), status_code=status_code)

    def set_cookie(response: Response, name: str, value: str) -> None:
        response.set_cookie(name, value, httponly=True, secure=secure, samesite="strict", path="/")

    async def form(request: Request) -> dict[str, str]:
        """A url-encoded form, at most 8 KB (larger: empty)."""
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > 8192:
                return {}
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}

    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        return origin is None or origin.split("://", 1)[-1] == request.headers.get("host")

    def session(request: Request, fase: str = "volledig") -> Sessie | None:
        s = accounts.session(request.cookies.get(COOKIE))
        return s if s is not None and s.fase == fase else None

    def to_login() -> RedirectResponse:
        return RedirectResponse("/inloggen", status_code=303)

    def not_found(s: Sessie | None) -> HTMLResponse:
        return page("fout.html", 404, titel="Niet gevonden", sessie=s, melding="Deze pagina of dit bestand bestaat niet.")

    async def css(_request: Request) -> Response:
        return Response(CSS, media_type="text/css")

    async def login(request: Request) -> Response:
        if request.method == "GET":
            token = secrets.token_urlsafe(24)
            response = page("login.html", titel="Inloggen", sessie=None, csrf=token)
            set_cookie(response, PRE_COOKIE, token)
            return response
        data = await form(request)
        pre = request.cookies.get(PRE_COOKIE)
        if not same_origin(request) or not pre or not secrets.compare_digest(pre, data.get("csrf", "")):
            return page("fout.html", 403, titel="Geweigerd", sessie=None, melding="Het formulier is verlopen of "
                        "komt niet van deze site. Laad de pagina opnieuw.")
        naam = data.get("naam", "").strip().lower()
        outcome, wait = accounts.check_password(naam, data.get("wachtwoord", ""))
        if outcome != "ok":
            audit.log(home, "inloggen mislukt" if outcome == "fout" else "inloggen geblokkeerd", naam[:40],
                      client(request))
            token = secrets.token_urlsafe(24)
            melding = "Onjuiste accountnaam of wachtwoord."
            if wait:
                melding += f" Probeer het over {int(wait) + 1} seconden opnieuw."
            response = page("login.html", 401, titel="Inloggen", sessie=None, csrf=token, melding=melding)
            set_cookie(response, PRE_COOKIE, token)
            return response
        audit.log(home, "wachtwoord juist", naam, client(request))
        response = RedirectResponse("/tweede-factor", status_code=303)
        set_cookie(response, COOKIE, accounts.new_session(naam, "wachtwoord"))
        response.delete_cookie(PRE_COOKIE, path="/")
        return response

    async def second_factor(request: Request) -> Response:
        s = session(request, "wachtwoord")
        if s is None:
            return to_login()
        secret = None if s.account.totp_ingesteld else accounts.totp_setup(s.naam)
        context = {"titel": "Tweede factor", "sessie": s, "geheim": secret,
                   "uri": provisioning_uri(secret, s.naam) if secret else None}
        if request.method == "GET":
            return page("factor.html", **context)
        data = await form(request)
        if not same_origin(request) or not secrets.compare_digest(s.csrf, data.get("csrf", "")):
            return page("fout.html", 403, titel="Geweigerd", sessie=None, melding="Het formulier is verlopen.")
        if not accounts.check_totp(s.naam, data.get("code", "")):
            audit.log(home, "tweede factor mislukt", s.naam, client(request))
            return page("factor.html", 401, melding="Deze code is onjuist of al gebruikt.", **context)
        audit.log(home, "ingelogd", s.naam, client(request))
        accounts.end_session(request.cookies.get(COOKIE))  # a new token for the new privilege
        response = RedirectResponse("/", status_code=303)
        set_cookie(response, COOKIE, accounts.new_session(s.naam, "volledig"))
        return response

    async def logout(request: Request) -> Response:
        token = request.cookies.get(COOKIE)
        s = accounts.session(token)
        data = await form(request)
        if s is not None and secrets.compare_digest(s.csrf, data.get("csrf", "")):
            accounts.end_session(token)
            audit.log(home, "uitgelogd", s.naam, client(request))
        response = to_login()
        response.delete_cookie(COOKIE, path="/")
        return response

    def deliveries_page(s: Sessie, verdict=None, status_code: int = 200) -> HTMLResponse:
        return page("leveringen.html", status_code, titel="Leveringen", sessie=s, uitslag=verdict,
                    leveringen=status.deliveries(home, inbox, s.account.vt_code), limiet_mb=limit // (1 << 20))

    async def home_page(request: Request) -> Response:
        s = session(request)
        if s is None:
            return to_login()
        if s.account.rol == "beheer":
            return RedirectResponse("/beheer", status_code=303)
        return deliveries_page(s)

    async def upload(request: Request) -> Response:
        s = session(request)
        if s is None:
            return to_login()
        if s.account.rol != "organisatie" or not same_origin(request):
            return page("fout.html", 403, titel="Geweigerd", sessie=s, melding="Alleen een organisatie levert aan.")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + 65536:
            audit.log(home, "aanbieden geweigerd", s.naam, client(request), reden="te groot")
            return page("fout.html", 413, titel="Te groot", sessie=s,
                        melding=f"Het bestand is groter dan {limit // (1 << 20)} MB; er is niets ontvangen.")
        try:
            received = await receive(request, home / "portal" / "ontvangst", limit)
        except UploadTooLarge:
            audit.log(home, "aanbieden geweigerd", s.naam, client(request), reden="te groot")
            return page("fout.html", 413, titel="Te groot", sessie=s,
                        melding=f"Het bestand is groter dan {limit // (1 << 20)} MB; er is niets ontvangen.")
        except BadUpload as exc:
            return page("fout.html", 400, titel="Geweigerd", sessie=s, melding=f"Geen bestand ontvangen ({exc}).")
        try:
            if not secrets.compare_digest(s.csrf, received.fields.get("csrf", "")):
                return page("fout.html", 403, titel="Geweigerd", sessie=s, melding="Het formulier is verlopen.")
            # the parser is CPU work of seconds for a large file: off the event loop, so other pages still answer
            verdict = await run_in_threadpool(judge, received.path, received.filename or "", s.account.vt_code,
                                              inbox, home)
        finally:
            received.path.unlink(missing_ok=True)
        audit.log(home, "aangeboden" if verdict.accepted else "aanbieden geweigerd", s.naam, client(request),
                  bestand=status_name(received.filename), levering=verdict.levering_id or "-",
                  uitslag="ontvangen" if verdict.accepted else "geweigerd")
        return deliveries_page(s, verdict, 200 if verdict.accepted else 422)

    async def report(request: Request) -> Response:
        s = session(request)
        if s is None:
            return to_login()
        levering, name = request.path_params["levering"], request.path_params["bestand"]
        own = s.account.rol == "organisatie" and levering.startswith(f"{s.account.vt_code}_")
        path = status.report_path(home, levering, name) if own else None
        if path is None:
            audit.log(home, "download geweigerd", s.naam, client(request), levering=status_name(levering)[:40])
            return not_found(s)
        audit.log(home, "download", s.naam, client(request), levering=levering, bestand=name)
        if name.endswith(".html"):
            # the report's own stylesheet is allowed by its hash: still no inline script or style of anyone else
            text = path.read_text(encoding="utf-8", errors="replace")
            hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
                              for css in re.findall(r"<style[^>]*>(.*?)</style>", text, re.S))
            policy = HEADERS["Content-Security-Policy"].replace("style-src 'self'", f"style-src 'self' {hashes}")
            return HTMLResponse(text, headers={"Content-Security-Policy": policy})
        media = "text/csv" if name.endswith(".csv") else "application/json"
        return FileResponse(path, media_type=media, filename=f"{levering}_{name}", content_disposition_type="attachment")

    async def overview(request: Request) -> Response:
        s = session(request)
        if s is None:
            return to_login()
        if s.account.rol != "beheer":
            return not_found(s)
        all_ = status.deliveries(home, inbox)
        table: dict[tuple[str, str], list] = {}
        for lev in sorted(all_, key=lambda x: x.nummer):
            table.setdefault((lev.vt_code, lev.periode), []).append(lev)
        return page("beheer.html", titel="Overzicht", sessie=s, overzicht=table,
                    organisaties=sorted({x.vt_code for x in all_}),
                    perioden=sorted({x.periode for x in all_}, reverse=True),
                    kalender=status.calendar_state(home, date.today()))

    headers = {**HEADERS, **({"Strict-Transport-Security": "max-age=31536000"} if secure else {})}
    return Starlette(routes=[
        Route("/portal.css", css),
        Route("/inloggen", login, methods=["GET", "POST"]),
        Route("/tweede-factor", second_factor, methods=["GET", "POST"]),
        Route("/uitloggen", logout, methods=["POST"]),
        Route("/", home_page),
        Route("/aanbieden", upload, methods=["POST"]),
        Route("/rapport/{levering}/{bestand}", report),
        Route("/beheer", overview),
    ], middleware=[Middleware(SecurityHeaders, headers=headers)])


class SecurityHeaders:
    """Every response, error pages included, carries the security headers."""

    def __init__(self, app, headers: dict[str, str]):
        self.app, self.headers = app, headers

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = MutableHeaders(scope=message)
                for k, v in self.headers.items():
                    if k not in present:
                        present[k] = v
            await send(message)

        await self.app(scope, receive, send_with_headers)


def status_name(name: str | None) -> str:
    """A requested or uploaded name as the audit log may hold it."""
    from loaders.parse import shown

    return shown(name or "-")[:120]
