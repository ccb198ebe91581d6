"""The portal under a property-based attack (Hypothesis): random bytes, Unicode and lengths in every form field,
header, cookie, path and multipart part. Every response is a 2xx, 3xx or 4xx with the security headers, and the
portal still answers afterwards. `make soak` runs it with many more examples ($VT_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_portal import csrf_of, login
from vt_warehouse.portal.accounts import Accounts

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from vt_warehouse.portal.app import HEADERS, create_app

EXAMPLES = int(os.environ.get("VT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="VT_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# text as a browser or a script could send it: any code point but lone surrogates (not encodable), any length
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=50),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1000, max_size=12_000),
    st.sampled_from(["１２３４５６", "١٢٣٤٥٦", "\x00" * 6, "ж" * 32, "%00", "../../etc/pw", ""]),
)
BYTES = st.one_of(st.binary(max_size=200), st.binary(min_size=2000, max_size=20_000))
HEADER_VALUE = st.binary(max_size=300).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """A portal with an organisation's account, and a client logged in with both factors."""
    root = tmp_path_factory.mktemp("fuzz")
    home, inbox = root / "wh", root / "inbox"
    inbox.mkdir(parents=True)
    password = Accounts(home).add("vt05", "organisatie", "VT05")
    app = create_app(home, inbox, 64 * 1024)
    client = login(app, "vt05", password)
    raw = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    raw.cookies = client.cookies
    csrf = csrf_of(raw.get("/").text)
    return app, raw, csrf


def healthy(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    for name in HEADERS:
        assert name.lower() in response.headers, (name, response.status_code)


def still_answers(client) -> None:
    assert client.get("/portal.css").status_code == 200


@FUZZ
@given(csrf=TEXT, naam=TEXT, wachtwoord=TEXT, origin=st.none() | HEADER_VALUE, cookie=st.none() | HEADER_VALUE)
def test_login_form(target, csrf, naam, wachtwoord, origin, cookie):
    _, client, _ = target
    fresh = TestClient(client.app, base_url="https://testserver", raise_server_exceptions=False)
    headers = {k: v for k, v in (("origin", origin), ("cookie", cookie)) if v is not None}
    healthy(fresh.post("/inloggen", data={"csrf": csrf, "naam": naam, "wachtwoord": wachtwoord}, headers=headers))
    still_answers(fresh)


@FUZZ
@given(csrf=TEXT, code=TEXT, path=st.sampled_from(["/tweede-factor", "/uitloggen", "/inloggen"]))
def test_second_factor_and_logout_forms(target, csrf, code, path):
    app, client, real = target
    fresh = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    fresh.cookies = client.cookies
    for token in (csrf, real):  # a random token, and the right one with a random code
        healthy(fresh.post(path, data={"csrf": token, "code": code}, follow_redirects=False))
    still_answers(client)


@FUZZ
@given(
    body=BYTES,
    boundary=st.one_of(st.just(b"grens"), st.binary(min_size=1, max_size=6000)),
    header=HEADER_VALUE,
    filename=TEXT,
    part=BYTES,
    content_type=st.one_of(
        st.just("multipart/form-data; boundary=grens"), TEXT.map(lambda t: t.encode("utf-8", "replace"))
    ),
)
def test_upload_multipart_bodies(target, body, boundary, header, filename, part, content_type):
    _, client, csrf = target
    safe = filename.replace('"', "").encode("utf-8")
    bodies = [
        body,  # bytes of any kind
        b"--" + boundary + b"\r\n" + header + b"\r\n\r\n" + part + b"\r\n--" + boundary + b"--\r\n",  # odd part header
        (
            b"preamble"
            + body
            + b'\r\n--grens\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
            + csrf.encode()
            + b'\r\n--grens\r\nContent-Disposition: form-data; name="bestand"; filename="'
            + safe
            + b'"\r\n\r\n'
            + part
            + b"\r\n--grens--\r\n"
        ),  # a whole form with any file name and content
        body.replace(b"\n", b"\r"),  # CR-only line ends
    ]
    for data in bodies:
        for kind in (
            b"multipart/form-data; boundary=" + boundary,
            content_type if isinstance(content_type, bytes) else content_type.encode(),
        ):
            healthy(client.post("/aanbieden", content=data, headers={"content-type": kind}))
    still_answers(client)


@FUZZ
@given(
    levering=TEXT,
    bestand=TEXT,
    header=HEADER_VALUE,
    name=st.sampled_from(["origin", "host", "cookie", "content-length", "referer"]),
)
def test_paths_and_headers(target, levering, bestand, header, name):
    _, client, _ = target
    from urllib.parse import quote

    for path in (
        f"/rapport/{quote(levering, safe='')}/{quote(bestand, safe='')}",
        f"/{quote(levering)}",
        "/",
        "/beheer",
        "/bestandsdefinitie",
    ):
        healthy(client.get(path, headers={name: header}, follow_redirects=False))
    still_answers(client)
