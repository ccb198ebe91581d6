"""The open-data feed, read by StatLine's own Python client (cbsodata, unchanged) from a running `vt opendata
serve`-like server over a frozen, published release; and the feed's pure parts (the $filter subset, paging)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import cbsodata
import httpx
import pytest
import uvicorn

from tests.conftest import run_vt
from tests.states import private_copy
from vt_warehouse.opendata.odata import BadQuery, parse_filter, query
from vt_warehouse.opendata.server import create_app
from vt_warehouse.opendata.tables import NEDERLAND, RELEASE_ID, STABLE_ID, catalog, period_key, topics
from vt_warehouse.publish.cells import TOTAAL

RELEASE = "2020V1"
PAGE = 7  # rows per response in the test server: every table needs many pages


class Server:
    def __init__(self, home: Path, page_size: int):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(create_app(home, page_size), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("the feed did not start")

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def feed(refreshed_half_year, tmp_path_factory):
    """A copy of a warehouse with 2020V1 frozen and published (three organisations delivered), served."""
    home = private_copy(refreshed_half_year[0], tmp_path_factory.mktemp("feed"))
    cbsodata.options.use_https = False
    with Server(home, PAGE) as server:
        yield home, server


def tidy_rows(home: Path, name: str = f"tijdreeks_{RELEASE}.csv") -> list[dict]:
    with (home / "publicatie" / RELEASE / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_catalog_lists_the_stable_table_and_each_release(feed):
    _, server = feed
    tables = cbsodata.get_table_list(catalog_url=server.url)
    assert [t["Identifier"] for t in tables] == [STABLE_ID, RELEASE_ID.format(release=RELEASE)]
    assert all(t["Catalog"] == "CBS" and t["Frequency"] == "Perhalfjaar" for t in tables)
    assert tables[0]["FeedUrl"] == f"http://{server.url}/ODataFeed/odata/{STABLE_ID}"
    only = cbsodata.get_table_list(catalog_url=server.url, filters=f"Identifier eq '{STABLE_ID}'")
    assert [t["Identifier"] for t in only] == [STABLE_ID]


@pytest.mark.parametrize("table_id", [STABLE_ID, RELEASE_ID.format(release=RELEASE)])
def test_get_data_gives_exactly_the_tidy_csv_of_the_release(feed, table_id):
    """Every row and value of the tidy CSV, paged (PAGE rows a response) and put together by the client: a number
    where the page has one, None where it has only a symbol; the untyped set has the page's symbols."""
    home, server = feed
    tidy = tidy_rows(home)
    page = tidy_rows(home, f"cijfers_{RELEASE}.csv")  # the release's own half-year, as on the page
    assert page and all(r in tidy for r in page)
    data = cbsodata.get_data(table_id, catalog_url=server.url)
    regions = {r["Key"]: r["Title"] for r in cbsodata.get_meta(table_id, "RegioS", catalog_url=server.url)}
    periods = {p["Key"]: p["Title"] for p in cbsodata.get_meta(table_id, "Perioden", catalog_url=server.url)}
    pairs = sorted({(r["periode"], r["vt_code"]) for r in tidy})
    assert len(data) == len(pairs) > 2 * PAGE and sorted(r["ID"] for r in data) == list(range(len(pairs)))
    by_cell = {(r["Perioden"], r["RegioS"]): r for r in data}
    key = {t.maat.naam: t for t in topics()}
    untyped = {
        (r["Perioden"], r["RegioS"]): r for r in cbsodata.get_meta(table_id, "UntypedDataSet", catalog_url=server.url)
    }
    symbols = 0
    for r in tidy:
        region = NEDERLAND if r["vt_code"] == TOTAAL else r["vt_code"]
        row = by_cell[(periods[period_key(r["periode"])], regions[region])]
        topic = key[r["maat"]]
        value = row[topic.key]
        if r["waarde"] == "":
            assert value is None, (r, value)  # a suppressed or missing cell is never a number
            symbols += 1
        elif topic.is_count:
            assert value == int(float(r["waarde"])), r
        else:
            assert value == float(r["waarde"]), r
        text = untyped[(period_key(r["periode"]), region)][topic.key]
        assert text == (r["symbool"] or (str(value) if topic.is_count else f"{value:.1f}")), r
    assert symbols  # three organisations delivered: the other regions and Nederland are '.'


def test_filters_as_the_client_sends_them(feed):
    home, server = feed
    table_id = STABLE_ID
    periods = sorted({r["periode"] for r in tidy_rows(home)})
    vt05 = cbsodata.get_data(table_id, filters="RegioS eq 'VT05'", catalog_url=server.url)
    name = {r["vt_naam"] for r in tidy_rows(home) if r["vt_code"] == "VT05" and r["periode"] == periods[-1]}
    assert len(vt05) == len(periods) and {r["RegioS"] for r in vt05} == name
    last = period_key(periods[-1])
    one = cbsodata.get_data(table_id, filters=f"Perioden eq '{last}'", catalog_url=server.url)
    regions = {r["vt_code"] for r in tidy_rows(home) if r["periode"] == periods[-1]}
    assert len(one) == len(regions)
    both = cbsodata.get_data(
        table_id,
        filters=f"(Perioden eq '{last}') and (RegioS eq 'VT05' or RegioS eq '{NEDERLAND}')",
        select=["RegioS", "Perioden", "GestarteAdviezen_1"],
        catalog_url=server.url,
    )
    assert len(both) == 2 and set(both[0]) == {"RegioS", "Perioden", "GestarteAdviezen_1"}
    assert [r["RegioS"] for r in both] == [*name, "Nederland"]  # as the page names the total
    first_halves = cbsodata.get_data(table_id, filters="substringof('HJ01', Perioden)", catalog_url=server.url)
    assert len(first_halves) == sum(
        len({r["vt_code"] for r in tidy_rows(home) if r["periode"] == p}) for p in periods if p.endswith("H1")
    )
    starts = cbsodata.get_data(table_id, filters="startswith(Perioden, '2019')", catalog_url=server.url)
    assert {r["Perioden"][:4] for r in starts} == {"2019"}


def test_get_meta_gives_the_dimensions_and_topics_with_their_titles(feed):
    home, server = feed
    props = cbsodata.get_meta(STABLE_ID, "DataProperties", catalog_url=server.url)
    dims = [(p["Key"], p["Type"], p["Title"]) for p in props if "Dimension" in p["Type"]]
    assert dims == [("RegioS", "GeoDimension", "Veilig Thuis-regio"), ("Perioden", "TimeDimension", "Perioden")]
    assert [p["Title"] for p in props if p["Type"] == "Topic"] == [t.maat.kop for t in topics()]
    info = cbsodata.get_info(STABLE_ID, catalog_url=server.url)
    assert info["Identifier"] == STABLE_ID and "Verklaring van tekens" in info["Description"]
    assert "Trendbreuk tussen 2019H2 en 2020H1" in info["Description"]
    frozen = json.loads((home / "releases" / RELEASE / "manifest.json").read_text())
    assert info["Modified"] + "Z" == frozen["build"]["gebouwd_op"]  # the frozen release's time


def test_headers_caching_and_no_write_route(feed):
    _, server = feed
    base = f"http://{server.url}"
    release = httpx.get(f"{base}/ODataFeed/odata/{RELEASE_ID.format(release=RELEASE)}/TypedDataSet?$top=1")
    stable = httpx.get(f"{base}/ODataApi/odata/{STABLE_ID}/TypedDataSet?$top=1")
    assert release.status_code == stable.status_code == 200
    assert release.headers["cache-control"] == "public, max-age=31536000, immutable"  # frozen: never changes
    assert stable.headers["cache-control"].startswith("public, max-age=")  # until the next peildatum
    for r in (release, stable):
        assert (
            r.headers["x-content-type-options"] == "nosniff"
            and "default-src 'none'" in r.headers["content-security-policy"]
        )
        assert "last-modified" in r.headers
    assert httpx.post(f"{base}/ODataFeed/odata/{STABLE_ID}/TypedDataSet").status_code == 405
    missing = httpx.get(f"{base}/ODataFeed/odata/VT_bestaat_niet/TypedDataSet")
    assert missing.status_code == 404 and STABLE_ID in missing.json()["odata.error"]["message"]["value"]
    bad = httpx.get(f"{base}/ODataFeed/odata/{STABLE_ID}/TypedDataSet", params={"$filter": "Geheim eq 'x'"})
    assert bad.status_code == 400 and "no property 'Geheim'" in bad.json()["odata.error"]["message"]["value"]


def test_only_frozen_published_untampered_releases_are_served(refreshed_half_year, tmp_path):
    home = private_copy(refreshed_half_year[0], tmp_path)
    assert catalog(home)[1] == []
    (home / "publicatie" / "2099V9").mkdir()  # not of the calendar: named, never served
    tables, problems = catalog(home)
    assert list(tables) == [STABLE_ID, RELEASE_ID.format(release=RELEASE)]
    assert problems == [f"{home / 'publicatie' / '2099V9'}: not a release of the calendar"]
    (home / "publicatie" / "2099V9").rmdir()
    csv_file = home / "publicatie" / RELEASE / f"tijdreeks_{RELEASE}.csv"
    csv_file.chmod(0o644)
    csv_file.write_text(csv_file.read_text().replace(",voorlopig,", ",definitief,", 1))
    tables, problems = catalog(home)
    assert tables == {} and problems == [
        f"{csv_file} is not the file its manifest names (checksum differs): run vt verify"
    ]
    # a file whose manifest was rewritten with it is read row by row: what the feed cannot show is named
    manifest_file = home / "publicatie" / RELEASE / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    rows = list(csv.reader(csv_file.open(encoding="utf-8", newline="")))
    rows[5][rows[0].index("waarde")] = "NaN"
    with csv_file.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    for f in manifest["files"]:
        if f["name"] == csv_file.name:
            f["sha256"] = hashlib.sha256(csv_file.read_bytes()).hexdigest()
    manifest_file.chmod(0o644)
    manifest_file.write_text(json.dumps(manifest))
    assert catalog(home) == ({}, [f"{csv_file}, line 6: waarde 'NaN' is not a number"])
    shutil.rmtree(home / "publicatie")
    proc = run_vt("opendata", "serve", "--port", "1", home=home, check=False)
    assert proc.returncode == 1 and "no frozen, published release in" in proc.stderr


def test_links_use_the_public_url_and_a_bad_one_or_a_busy_port_is_refused(feed):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    home, server = feed
    client = TestClient(create_app(home, PAGE, "https://data.example.nl/vt"))
    page = client.get(f"/ODataFeed/odata/{STABLE_ID}/TypedDataSet", headers={"Host": "evil.example"}).json()
    assert page["odata.nextLink"].startswith(f"https://data.example.nl/vt/ODataFeed/odata/{STABLE_ID}/TypedDataSet?")
    assert page["odata.nextLink"].endswith(f"$skip={PAGE}")  # cbsodataR reads the $skip at the end
    first = client.get(f"/ODataFeed/odata/{STABLE_ID}/TypedDataSet", params={"$top": "10", "$select": "ID"}).json()
    assert [r["ID"] for r in first["value"]] == list(range(PAGE)) and "$top=3" in first["odata.nextLink"]
    rest = client.get(
        first["odata.nextLink"].removeprefix("https://data.example.nl/vt")
    ).json()  # (the proxy strips it)
    assert [r["ID"] for r in rest["value"]] == list(range(PAGE, 10)) and "odata.nextLink" not in rest
    service = client.get(f"/ODataApi/odata/{STABLE_ID}").json()["value"]
    assert [s["url"] for s in service][0] == f"https://data.example.nl/vt/ODataApi/odata/{STABLE_ID}/TableInfos"
    periods = client.get(f"/ODataApi/odata/{STABLE_ID}/Perioden").json()["value"]
    assert [p["Key"] for p in periods if "trendbreuk" in p["Description"]] == ["2020HJ01"]
    busy = run_vt("opendata", "serve", "--port", server.url.split(":")[1], home=home, check=False)  # in use
    assert busy.returncode == 2 and f"cannot serve at 127.0.0.1:{server.url.split(':')[1]}: " in busy.stderr
    for bad in ("data.example.nl", "https://data.example.nl/", "javascript:alert(1)", "https://x/\nSet-Cookie: a"):
        proc = run_vt("opendata", "serve", "--public-url", bad, home=home, check=False)
        assert proc.returncode == 2 and "--public-url" in proc.stderr, bad


def test_the_metadata_document_describes_every_entity_set(feed):
    """The CSDL that model-first clients (Excel, Power BI) read: every set of the service document, with exactly
    the properties its JSON rows have, topics typed as their DataProperties say."""
    from xml.etree import ElementTree as ET

    _, server = feed
    base = f"http://{server.url}/ODataFeed/odata/{STABLE_ID}"
    response = httpx.get(f"{base}/$metadata")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    edm = "{http://schemas.microsoft.com/ado/2009/11/edm}"
    schema = ET.fromstring(response.text).find(f".//{edm}Schema")
    types = {
        e.get("Name"): {p.get("Name"): p.get("Type") for p in e.findall(f"{edm}Property")}
        for e in schema.findall(f"{edm}EntityType")
    }
    sets = [s["name"] for s in httpx.get(f"{base}/").json()["value"]]
    assert [s.get("Name") for s in schema.findall(f"{edm}EntityContainer/{edm}EntitySet")] == sets
    for name in sets:
        rows = httpx.get(f"{base}/{name}").json()["value"]
        if rows:
            assert set(types[name]) == {k for k in rows[0] if not k.startswith("odata.")}, name
    props = {p["Key"]: p for p in httpx.get(f"{base}/DataProperties").json()["value"] if p["Type"] == "Topic"}
    for key, p in props.items():
        assert types["TypedDataSet"][key] == {"Long": "Edm.Int64", "Double": "Edm.Double"}[p["Datatype"]]
        assert types["UntypedDataSet"][key] == "Edm.String"


def test_the_filter_subset_and_paging():
    rows = [{"ID": i, "RegioS": f"VT{i % 3:02d}", "Perioden": f"20{19 + i // 3}HJ01"} for i in range(9)]
    fields = set(rows[0])

    def ids(text):
        keep = parse_filter(text, fields)
        return [r["ID"] for r in rows if keep(r)]

    assert ids("RegioS eq 'VT01'") == [1, 4, 7]
    assert ids("RegioS eq 'VT01' or RegioS eq 'VT02' and Perioden eq '2019HJ01'") == [1, 2, 4, 7]
    assert ids("(RegioS eq 'VT01' or RegioS eq 'VT02') and Perioden eq '2019HJ01'") == [1, 2]
    assert ids("not (RegioS ne 'VT00')") == [0, 3, 6]
    assert ids("substringof('2020', Perioden) and endswith(RegioS, '2')") == [5]
    assert ids("ID ge 7") == [7, 8]
    assert ids("ID gt 'VT05'") == ids("RegioS lt 3") == ids("ID le null") == []  # unlike kinds never order
    assert ids("RegioS eq 'it''s'") == []
    for wrong, message in [
        ("RegioS eq", "expected a property"),
        ("RegioS eq 'VT01' xor ID eq 1", "unexpected 'xor'"),
        ("Geheim eq 1", "no property 'Geheim'"),
        ("RegioS eq 'open", "cannot read"),
        ("(" * 30 + "ID eq 1" + ")" * 30, "nests deeper"),
        ("ID eq 1 or " * 300 + "ID eq 2", "longer than"),
        ("substringof('x')", "takes two arguments"),
    ]:
        with pytest.raises(BadQuery, match=message):
            parse_filter(wrong, fields)
    page, nxt = query(rows, {"$skip": "2", "$top": "5"}, 3)
    assert [r["ID"] for r in page] == [2, 3, 4] and nxt == 5
    page, nxt = query(rows, {"$skip": "5", "$top": "2"}, 3)
    assert [r["ID"] for r in page] == [5, 6] and nxt is None
    for params, message in [
        ({"$top": "-1"}, "whole number"),
        ({"$format": "atom"}, "json only"),
        ({"$select": "X"}, "no property 'X'"),
    ]:
        with pytest.raises(BadQuery, match=message):
            query(rows, params, 3)
