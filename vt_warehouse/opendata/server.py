"""The open-data feed's web app: StatLine's paths, read-only, public. `/ODataCatalog/Tables` lists the tables;
`/ODataFeed/odata/<id>/` and `/ODataApi/odata/<id>/` (StatLine's bulk feed and API) give a table's service
document and entity sets. Only GET and HEAD; the portal's security headers; caching that follows the release
calendar (a frozen release's table never changes; the newest and the catalog until the next peildatum).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vt_warehouse.kalender import releases
from vt_warehouse.opendata.odata import SETS, BadQuery, entity_set, metadata_document, query, table_info
from vt_warehouse.opendata.tables import Table, catalog
from vt_warehouse.portal.app import HEADERS, SecurityHeaders

PAGE_SIZE = 10000  # rows per response, as StatLine's feed
IMMUTABLE = "public, max-age=31536000, immutable"
# the portal's headers, but a public feed may be cached (its own Cache-Control per response)
FEED_HEADERS = {k: v for k, v in HEADERS.items() if k != "Cache-Control"}


def next_peildatum(today: date) -> date | None:
    """The next peildatum of the calendar after today: until then no new release can be frozen."""
    upcoming = [r.peildatum for r in releases(today.year - 1, today.year + 2) if r.peildatum > today]
    return min(upcoming) if upcoming else None


def cache_control(table: Table | None, now: datetime) -> str:
    if table is not None and not table.stable:
        return IMMUTABLE
    nxt = next_peildatum(now.date())
    if nxt is None:
        return "public, max-age=3600"
    seconds = int((datetime.combine(nxt, time(), UTC) - now).total_seconds())
    return f"public, max-age={max(300, min(seconds, int(timedelta(days=31).total_seconds())))}"


def json_response(body: dict, status: int = 200, cache: str = "no-store", modified: str = "") -> Response:
    headers = {"Cache-Control": cache, "DataServiceVersion": "3.0", "Vary": "Host"}
    if modified:
        stamp = datetime.fromisoformat(modified).replace(tzinfo=UTC)
        headers["Last-Modified"] = stamp.strftime("%a, %d %b %Y %H:%M:%S GMT")
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status, headers=headers, media_type="application/json;odata=light;charset=utf-8")


def error(status: int, message: str) -> Response:
    return json_response({"odata.error": {"code": str(status), "message": {"lang": "nl-NL", "value": message}}}, status)


def publication_stamp(home: Path) -> tuple:
    """What changes when a release is published or a served file is touched (then the tables are read again, and
    their checksums checked again)."""
    stamp = []
    try:  # every folder by name: on each request, so without the calendar's check (catalog() makes that)
        names = sorted(p.name for p in (home / "publicatie").iterdir() if p.is_dir())
    except OSError:
        names = []
    for release in names:
        folder = home / "publicatie" / release
        for name in ("manifest.json", f"tijdreeks_{release}.csv"):
            try:
                st = (folder / name).stat()
                stamp.append((release, name, st.st_mtime_ns, st.st_size))
            except OSError:
                stamp.append((release, name, None, None))
    return tuple(stamp)


PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[A-Za-z0-9._~-]{1,100}){0,10}\Z")


def public_url(text: str) -> str:
    """The address the feed is reached at (behind a proxy), checked: ValueError says what is wrong."""
    if not PUBLIC_URL.match(text):
        raise ValueError(
            f"{text[:100]!r} is not an http(s) address such as https://data.example.nl/vt (no slash at the end)"
        )
    return text


class Feed:
    def __init__(self, home: Path, page_size: int = PAGE_SIZE, base_url: str | None = None):
        self.home, self.page_size, self.base_url = home, page_size, base_url
        self._cache: tuple[tuple, dict[str, Table]] | None = None

    def tables(self) -> dict[str, Table]:
        """The servable tables, read again when a publication folder changed (a new release)."""
        stamp = publication_stamp(self.home)
        if self._cache is None or self._cache[0] != stamp:
            try:
                tables, _problems = catalog(self.home)
            except OSError:  # the publication folder cannot be read now: serve nothing rather than fail
                tables = {}
            self._cache = (stamp, tables)
        return self._cache[1]

    def routes(self) -> list[Route]:
        get = ["GET", "HEAD"]
        return [
            Route("/ODataCatalog/Tables", self.catalog_tables, methods=get),
            Route("/ODataCatalog/Tables/", self.catalog_tables, methods=get),
            Route("/{service:str}/odata/{table_id:str}", self.service, methods=get),
            Route("/{service:str}/odata/{table_id:str}/", self.service, methods=get),
            Route("/{service:str}/odata/{table_id:str}/{name:str}", self.entity, methods=get),
        ]

    def base(self, request: Request) -> str:
        """The address in the answers' links: --public-url, else as the request reached the feed (then the answers
        vary with the Host header, which they say)."""
        return self.base_url or str(request.base_url).rstrip("/")

    async def catalog_tables(self, request: Request) -> Response:
        base = self.base(request)
        rows = [table_info(t, base) for t in self.tables().values()]
        try:
            chosen, _next = query(rows, dict(request.query_params), self.page_size)
        except BadQuery as e:
            return error(400, str(e))
        now = datetime.now(UTC)
        body = {"odata.metadata": f"{base}/ODataCatalog/$metadata#Tables", "value": chosen}
        return json_response(body, cache=cache_control(None, now))

    def _table(self, request: Request) -> Table | Response:
        service, table_id = request.path_params["service"], request.path_params["table_id"]
        if service not in ("ODataFeed", "ODataApi"):
            return error(404, "not found: the feed is at /ODataFeed/odata/<tabel> and /ODataApi/odata/<tabel>")
        table = self.tables().get(table_id)
        if table is None:
            known = ", ".join(self.tables()) or "none yet: no release has been frozen and published"
            return error(404, f"no table {table_id[:40]!r} (tables: {known})")
        return table

    async def service(self, request: Request) -> Response:
        table = self._table(request)
        if isinstance(table, Response):
            return table
        url = f"{self.base(request)}/{request.path_params['service']}/odata/{table.identifier}"
        body = {
            "odata.metadata": f"{url}/$metadata",
            "value": [{"name": name, "url": f"{url}/{name}"} for name in SETS],
        }
        return json_response(body, cache=cache_control(table, datetime.now(UTC)), modified=table.modified)

    async def entity(self, request: Request) -> Response:
        table = self._table(request)
        if isinstance(table, Response):
            return table
        name = request.path_params["name"]
        if name == "$metadata":
            text = metadata_document(table, self.base(request))
            headers = {"Cache-Control": cache_control(table, datetime.now(UTC)), "DataServiceVersion": "3.0"}
            return Response(text, headers=headers, media_type="application/xml;charset=utf-8")
        if name not in SETS:
            return error(404, f"no entity set {name[:40]!r} (sets: {', '.join(SETS)})")
        url = f"{self.base(request)}/{request.path_params['service']}/odata/{table.identifier}"
        params = dict(request.query_params)
        try:
            chosen, next_skip = query(entity_set(table, name, self.base(request)), params, self.page_size)
        except BadQuery as e:
            return error(400, str(e))
        body: dict = {"odata.metadata": f"{url}/$metadata#Cbs.OData.WebAPI.{name}", "value": chosen}
        if next_skip is not None:
            rest = {k: v for k, v in params.items() if k not in ("$skip", "$top")}
            if "$top" in params:
                rest["$top"] = str(int(params["$top"]) - (next_skip - int(params.get("$skip") or 0)))
            body["odata.nextLink"] = f"{url}/{name}?{urlencode({**rest, '$skip': next_skip}, safe='$')}"
        return json_response(body, cache=cache_control(table, datetime.now(UTC)), modified=table.modified)


async def not_found(request: Request, exc) -> Response:
    status = getattr(exc, "status_code", 404)
    return error(status, "not found" if status == 404 else "only GET and HEAD")


def create_app(home: Path, page_size: int = PAGE_SIZE, base_url: str | None = None):
    feed = Feed(home, page_size, public_url(base_url) if base_url else None)
    app = Starlette(routes=feed.routes(), exception_handlers={404: not_found, 405: not_found})
    return SecurityHeaders(app, FEED_HEADERS)
