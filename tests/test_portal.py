"""The organisations' portal, attacked: an authorisation matrix over every route and object (another
organisation's delivery, report or upload by id, by a guessed name, by path traversal), login without the
second factor, a replayed TOTP code, a session used after log-out, a cross-site form post, uploads that are too
large, of another organisation or with a hostile name, the security headers; and the happy path with its audit
log."""

from __future__ import annotations

import json
import re
import warnings

import pytest

from tests.conftest import KNOWN_VERSIONS, UNKNOWN_VERSION, run_vt, small_delivery, write_delivery
from vt_warehouse.portal import audit, totp
from vt_warehouse.portal.accounts import Accounts

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from vt_warehouse.portal.app import create_app

LIMIT = 64 * 1024
SECRETS: dict[tuple[int, str], str] = {}  # each account's TOTP key, as its first login showed it
REPORTS = ("kwaliteitsrapport.html", "spiegelrapport.html", "overtredingen.csv")


@pytest.fixture
def portal(tmp_path):
    home, inbox = tmp_path / "wh", tmp_path / "inbox"
    inbox.mkdir(parents=True)
    accounts = Accounts(home)
    passwords = {
        "vt05": accounts.add("vt05", "organisatie", "VT05"),
        "vt06": accounts.add("vt06", "organisatie", "VT06"),
        "staf": accounts.add("staf", "beheer", None),
    }
    for lid in ("VT05_2020H1_001", "VT06_2020H1_001"):
        folder = home / "kwaliteit" / lid
        folder.mkdir(parents=True)
        for name in REPORTS:
            (folder / name).write_text(f"{lid} {name}")
        (folder / "kwaliteitsrapport.json").write_text(json.dumps({"passed": lid.startswith("VT05")}))
    (home / "vt.duckdb").write_text("the warehouse")
    app = create_app(home, inbox, LIMIT)
    return home, inbox, app, passwords


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def login(app, naam: str, password: str, second_factor: bool = True, now: float | None = None):
    client = TestClient(app, base_url="https://testserver")
    page = client.get("/inloggen")
    r = client.post(
        "/inloggen", data={"csrf": csrf_of(page.text), "naam": naam, "wachtwoord": password}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/tweede-factor", r.text
    page = client.get("/tweede-factor")
    shown = re.search(r'<code class="geheim">([A-Z2-7]+)</code>', page.text)
    if shown:  # the first login shows the key to set up; later ones never do
        SECRETS[(id(app), naam)] = shown[1]
    secret = client.secret_of = SECRETS[(id(app), naam)]
    if second_factor:
        r = client.post(
            "/tweede-factor",
            data={"csrf": csrf_of(page.text), "code": totp.code(secret, totp.current_step(now))},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
    return client


def test_a_delivery_uploaded_judged_and_its_reports_fetched_with_an_audit_trail(portal, tmp_path):
    home, inbox, app, pw = portal
    client = login(app, "vt05", pw["vt05"])
    page = client.get("/")
    assert "VT05_2020H1_001" in page.text and "VT06" not in page.text.replace("(VT05)", "")
    path = write_delivery(tmp_path, small_delivery("VT05", "2020H2", "001"))
    r = client.post(
        "/aanbieden", data={"csrf": csrf_of(page.text)}, files={"bestand": (path.name, path.read_bytes(), "text/plain")}
    )
    assert r.status_code == 200
    assert "Ontvangen: levering VT05_2020H2_001 voldoet aan de bestandsregels" in r.text
    assert [p.name for p in inbox.iterdir()] == ["VT05_2020H2_001.txt"]
    assert (inbox / "VT05_2020H2_001.txt").read_bytes() == path.read_bytes()
    assert "ontvangen, wacht op verwerking" in r.text
    r = client.get("/rapport/VT05_2020H1_001/overtredingen.csv")
    assert r.status_code == 200 and r.text == "VT05_2020H1_001 overtredingen.csv"
    assert r.headers["content-disposition"].startswith("attachment")
    events = [(e["gebeurtenis"], e["account"]) for e in audit.read(home)]
    assert events == [("wachtwoord juist", "vt05"), ("ingelogd", "vt05"), ("aangeboden", "vt05"), ("download", "vt05")]
    log = (home / "logs" / audit.FILE).read_text()
    assert "overtredingen.csv" in log and "VT05_2020H1_001 overtredingen.csv" not in log  # names, never contents
    assert (home / "logs" / audit.FILE).stat().st_mode & 0o777 == 0o600


def test_the_authorisation_matrix(portal):
    home, _, app, pw = portal
    anonymous = TestClient(app, base_url="https://testserver")
    half = login(app, "vt05", pw["vt05"], second_factor=False)
    vt05 = login(app, "vt05", pw["vt05"])
    staf = login(app, "staf", pw["staf"])
    own = [f"/rapport/VT05_2020H1_001/{n}" for n in REPORTS]
    other = [f"/rapport/VT06_2020H1_001/{n}" for n in REPORTS]
    guessed = [
        "/rapport/VT05_2020H1_001/manifest.json",
        "/rapport/VT05_2020H1_002/kwaliteitsrapport.html",
        "/rapport/VT05_2020H1_001/..%2F..%2Fvt.duckdb",
        "/rapport/..%2FVT06_2020H1_001/overtredingen.csv",
        "/rapport/VT05_2020H1_001%2F..%2FVT06_2020H1_001/overtredingen.csv",
        "/rapport/VT05_2020H1_001/%2e%2e",
        "/rapport/vt05_2020h1_001/overtredingen.csv",
    ]
    for path in [*own, *other, *guessed, "/", "/beheer"]:
        for who, client in (("anonymous", anonymous), ("password only", half)):
            r = client.get(path, follow_redirects=False)
            # to the login page; a path that is no route at all (a decoded %2F) is not found before that
            expected = 404 if "%2F" in path else 303
            assert r.status_code == expected and "_2020H1_001 " not in r.text, (who, path)
            if expected == 303:
                assert r.headers["location"] == "/inloggen", (who, path)
    for path in own:
        assert vt05.get(path).status_code == 200
    for path in [*other, *guessed, "/beheer"]:
        r = vt05.get(path)
        assert r.status_code == 404 and "VT06_2020H1_001 " not in r.text, path
    for path in [*own, *other]:  # the staff see who delivered what, never a report's content
        assert staf.get(path).status_code == 404
    overview = staf.get("/beheer")
    assert overview.status_code == 200 and "VT05" in overview.text and "VT06" in overview.text
    assert "2020V1" in overview.text
    assert "overtredingen" not in overview.text
    r = staf.post("/aanbieden", data={"csrf": "x"}, files={"bestand": ("a.txt", b"x", "text/plain")})
    assert r.status_code == 403


def test_second_factor_replay_stolen_session_and_cross_site_posts_are_refused(portal, tmp_path):
    home, inbox, app, pw = portal
    client = login(app, "vt05", pw["vt05"])
    secret = client.secret_of
    # the code just used cannot log in a second browser (replay)
    other = TestClient(app, base_url="https://testserver")
    page = other.get("/inloggen")
    other.post("/inloggen", data={"csrf": csrf_of(page.text), "naam": "vt05", "wachtwoord": pw["vt05"]})
    page = other.get("/tweede-factor")
    assert "geheim" not in page.text.split("<main>")[1].split("<form")[0]  # set up: the secret is never shown again
    r = other.post("/tweede-factor", data={"csrf": csrf_of(page.text), "code": totp.code(secret, totp.current_step())})
    assert r.status_code == 401 and "onjuist of al gebruikt" in r.text
    assert other.get("/", follow_redirects=False).status_code == 303
    # a session cookie stolen before log-out is worth nothing after it
    stolen = client.cookies.get("vt_sessie")
    page = client.get("/")
    client.post("/uitloggen", data={"csrf": csrf_of(page.text)})
    thief = TestClient(app, base_url="https://testserver", cookies={"vt_sessie": stolen})
    assert thief.get("/", follow_redirects=False).headers["location"] == "/inloggen"
    # a form posted from another site: refused by its origin and by the missing token
    client = login(app, "vt06", pw["vt06"])
    path = write_delivery(tmp_path, small_delivery("VT06", "2020H2", "001"))
    for headers, data in (
        ({"origin": "https://evil.example"}, {"csrf": csrf_of(client.get("/").text)}),
        ({}, {"csrf": "guessed"}),
        ({}, {}),
    ):
        r = client.post(
            "/aanbieden", data=data, headers=headers, files={"bestand": (path.name, path.read_bytes(), "text/plain")}
        )
        assert r.status_code == 403, headers
    assert list(inbox.iterdir()) == []


def test_uploads_too_large_of_another_organisation_or_badly_named_write_nothing(portal, tmp_path):
    home, inbox, app, pw = portal
    client = login(app, "vt05", pw["vt05"])
    csrf = csrf_of(client.get("/").text)

    def upload(name: str, data: bytes):
        return client.post("/aanbieden", data={"csrf": csrf}, files={"bestand": (name, data, "text/plain")})

    r = upload("VT05_2020H2_001.txt", b"x" * (LIMIT + 1))
    assert r.status_code == 413 and "groter dan" in r.text
    vt06 = write_delivery(tmp_path, small_delivery("VT06", "2020H2", "001"))
    r = upload(vt06.name, vt06.read_bytes())
    assert r.status_code == 422 and "Dit bestand is een levering van VT06; uw account levert alleen voor VT05" in r.text
    for sender, periode, why in (
        ("VT99", "2020H2", "VT99 is geen Veilig Thuis-organisatie van 2020"),
        ("VT05", "2030H1", "het halfjaar 2030H1 is op "),
    ):
        r = upload(
            f"{sender}_{periode}_001.txt", write_delivery(tmp_path, small_delivery(sender, periode, "001")).read_bytes()
        )  # rule 10, as the loader applies it at the door
        assert r.status_code == 422 and "<td>10</td>" in r.text and why in r.text, r.text
    bad = small_delivery("VT05", "2020H2", "001")
    bad[3] = bad[3][:-5]  # a record too short, one too long, one with a byte outside ASCII
    bad[4] = bad[4] + "xx"
    bad[5] = bad[5][:50] + "\xe9" + bad[5][51:]
    r = upload("VT05_2020H2_001.txt", ("\n".join(bad) + "\n").encode("latin-1"))
    assert r.status_code == 422 and "Afgekeurd" in r.text
    assert "<td>2</td><td>elk record is precies 120 afdrukbare ASCII-tekens lang</td>" in r.text
    assert (
        "<li>regel 4: 115 tekens in plaats van 120</li>\n<li>regel 5: 122 tekens in plaats van 120</li>\n"
        "<li>regel 6: teken 51 is byte 0xE9 (&#39;é&#39; in Latin-1), geen afdrukbaar ASCII-teken</li>"
    ) in r.text
    assert list(inbox.iterdir()) == []
    assert list((home / "portal" / "ontvangst").iterdir()) == []  # no part file left behind


def test_an_upload_of_any_name_is_named_from_its_vl_record(portal, tmp_path):
    home, inbox, app, pw = portal
    client = login(app, "vt05", pw["vt05"])
    page = client.get("/")
    assert "de naam van het bestand doet er niet toe" in page.text
    own = write_delivery(tmp_path, small_delivery("VT05", "2020H2", "001"))
    for n, name in enumerate(("../../etc/passwd", "..", "levering juni.TXT", "x.txt\n.sh", "é" * 200)):
        lines = own.read_text(encoding="latin-1").splitlines()
        lines[0] = lines[0][:24] + f"{n + 1:03d}" + lines[0][27:]  # each its own leveringsnummer
        r = client.post(
            "/aanbieden",
            data={"csrf": csrf_of(page.text)},
            files={"bestand": (name, ("\n".join(lines) + "\n").encode("latin-1"), "text/plain")},
        )
        assert r.status_code == 200 and f"Ontvangen: levering VT05_2020H2_{n + 1:03d} voldoet" in r.text, r.text
    # a name longer than any file system's: a form the portal does not read, said so, nothing received
    r = client.post(
        "/aanbieden",
        data={"csrf": csrf_of(page.text)},
        files={"bestand": ("é" * 10_000, own.read_bytes(), "text/plain")},
    )
    assert r.status_code == 400 and "Geen bestand ontvangen: het formulier is onleesbaar." in r.text
    assert sorted(p.name for p in inbox.iterdir()) == [f"VT05_2020H2_{n:03d}.txt" for n in range(1, 6)]
    assert all(len(e.get("bestand", "")) <= 120 for e in audit.read(home))


def test_wrong_second_factor_codes_back_off_like_passwords(portal):
    home, _, app, pw = portal
    client = login(app, "vt05", pw["vt05"], second_factor=False)
    secret = client.secret_of
    right = totp.code(secret, totp.current_step())
    for _ in range(5):
        page = client.get("/tweede-factor")
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        r = client.post("/tweede-factor", data={"csrf": csrf_of(page.text), "code": wrong})
        assert r.status_code == 401
    page = client.get("/tweede-factor")
    r = client.post("/tweede-factor", data={"csrf": csrf_of(page.text), "code": right})
    assert r.status_code == 401  # the right code waits too, and the failures are in the audit log
    assert [e["gebeurtenis"] for e in audit.read(home)].count("tweede factor mislukt") == 6


def test_every_file_rule_has_its_dutch_text():
    from loaders.parse import RULES
    from vt_warehouse.portal.upload import REGELS

    assert sorted(REGELS) == sorted(RULES)


def test_failed_logins_back_off_and_a_disabled_account_cannot_log_in(portal):
    home, _, app, pw = portal
    client = TestClient(app, base_url="https://testserver")
    for _ in range(5):
        page = client.get("/inloggen")
        r = client.post("/inloggen", data={"csrf": csrf_of(page.text), "naam": "vt05", "wachtwoord": "wrong"})
        assert r.status_code == 401
    assert "Probeer het over 31 seconden opnieuw" in r.text
    page = client.get("/inloggen")
    r = client.post("/inloggen", data={"csrf": csrf_of(page.text), "naam": "vt05", "wachtwoord": pw["vt05"]})
    assert r.status_code == 401  # even the right password waits
    assert [e["gebeurtenis"] for e in audit.read(home)][-1] == "inloggen geblokkeerd"
    proc = run_vt("portal", "user", "disable", "vt06", home=home)
    assert proc.stdout.strip() == "account vt06 disabled"
    page = client.get("/inloggen")
    r = client.post("/inloggen", data={"csrf": csrf_of(page.text), "naam": "vt06", "wachtwoord": pw["vt06"]})
    assert r.status_code == 401 and "Onjuiste accountnaam of wachtwoord." in r.text
    # a login form without its cookie token (a cross-site post) is refused
    fresh = TestClient(app, base_url="https://testserver")
    r = fresh.post("/inloggen", data={"csrf": "x", "naam": "vt05", "wachtwoord": pw["vt05"]})
    assert r.status_code == 403


def test_security_headers_on_every_response(portal):
    _, _, app, pw = portal
    client = login(app, "vt05", pw["vt05"])
    for path in ("/inloggen", "/", "/rapport/VT05_2020H1_001/kwaliteitsrapport.html", "/nergens", "/portal.css"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp, path
        assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["strict-transport-security"].startswith("max-age="), path
    cookie = client.get("/inloggen").headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie


def test_accounts_from_the_command_line(tmp_path):
    home = tmp_path / "wh"
    proc = run_vt("portal", "user", "add", "vt05", "--vt-code", "vt05", home=home)
    assert re.fullmatch(r"account vt05 \(organisatie, VT05\) added; first password: \S{20}\n", proc.stdout)
    assert (
        run_vt("portal", "user", "add", "vt05", "--vt-code", "VT05", home=home, check=False).stderr.strip()
        == "Error: account vt05 exists already"
    )
    assert run_vt("portal", "user", "add", "x", "--vt-code", "VT05", home=home, check=False).returncode == 1
    assert (
        run_vt("portal", "user", "add", "vt07", home=home, check=False).stderr.strip()
        == "Error: an organisation's account needs its organisation: --vt-code VTnn"
    )
    run_vt("portal", "user", "add", "staf", "--rol", "beheer", home=home)
    assert (
        run_vt("portal", "user", "reset-2fa", "vt05", home=home).stdout.strip() == "account vt05: second factor reset"
    )
    assert (
        run_vt("portal", "user", "disable", "nobody", home=home, check=False).stderr.strip()
        == "Error: no account nobody"
    )
    assert run_vt("portal", "user", "list", home=home).stdout.splitlines() == [
        "staf\tbeheer\t-\tno 2fa yet\tactive",
        "vt05\torganisatie\tVT05\tno 2fa yet\tactive",
    ]
    db = home / "portal" / "portal.sqlite"
    assert db.stat().st_mode & 0o777 == 0o600 and (home / "portal").stat().st_mode & 0o777 == 0o700
    assert b"first password" not in db.read_bytes()


def test_the_back_off_of_each_factor_survives_every_other_step(portal):
    """Five wrong codes start a wait; a right password 33 s later gives no fresh guesses: the next wrong code
    doubles the wait. Only a right code resets the codes' count; a right password resets only the passwords'."""
    home, pw = portal[0], portal[3]
    accounts = Accounts(home)
    secret = accounts.enroll_totp("vt05")
    t0 = 1_900_000_000.0
    wrong = f"{(int(totp.code(secret, totp.current_step(t0))) + 1) % 1_000_000:06d}"
    waits = [accounts.check_totp("vt05", wrong, now=t0)[1] for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.0, 30.0]
    assert accounts.check_password("vt05", pw["vt05"], now=t0 + 33) == ("ok", 0.0)
    assert accounts.check_totp("vt05", wrong, now=t0 + 33) == (False, 60.0)
    assert accounts.check_totp("vt05", totp.code(secret, totp.current_step(t0 + 40)), now=t0 + 40) == (False, 53.0)
    assert accounts.check_totp("vt05", totp.code(secret, totp.current_step(t0 + 94)), now=t0 + 94) == (True, 0.0)
    assert accounts.check_totp("vt05", wrong, now=t0 + 95) == (False, 0.0)  # a right code started the count anew
    # and the passwords' count is its own
    for _ in range(5):
        accounts.check_password("vt05", "wrong", now=t0 + 100)
    assert accounts.check_totp("vt05", totp.code(secret, totp.current_step(t0 + 120)), now=t0 + 120) == (True, 0.0)
    assert accounts.check_password("vt05", pw["vt05"], now=t0 + 121) == ("geblokkeerd", 9.0)


def test_input_the_portal_cannot_compare_is_simply_wrong_never_an_error(portal):
    """Non-ASCII digits as the code, non-ASCII or absent csrf values on every form, a foreign Origin on logout:
    a 4xx with the security headers, and the session is untouched."""
    _, _, app, pw = portal
    client = login(app, "vt05", pw["vt05"], second_factor=False)
    page = client.get("/tweede-factor")
    for code in ("１２３４５６", "١٢٣٤٥٦", "12345٦", "\x00" * 6, "1" * 5000):
        r = client.post("/tweede-factor", data={"csrf": csrf_of(page.text), "code": code})
        assert r.status_code == 401 and r.headers["x-frame-options"] == "DENY", code
    for csrf in ("ж" * 32, "", "a" * 5000, "\udcff"):
        for path in ("/tweede-factor", "/inloggen", "/uitloggen"):
            r = client.post(
                path,
                data={
                    "csrf": csrf.encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
                    "code": "123456",
                    "naam": "vt05",
                    "wachtwoord": "x",
                },
                follow_redirects=False,
            )
            assert r.status_code in (303, 401, 403) and "content-security-policy" in r.headers, (path, csrf)
    full = login(app, "vt06", pw["vt06"])  # (vt05's codes wait now: five wrong ones above)
    page = full.get("/")
    r = full.post(
        "/uitloggen",
        data={"csrf": csrf_of(page.text)},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "komt niet van deze site" in r.text
    assert full.get("/").status_code == 200 and "Mijn leveringen" in full.get("/").text  # still logged in
    r = full.post("/uitloggen", data={"csrf": "ж" * 32}, follow_redirects=False)  # a wrong token: the same
    assert r.status_code == 403 and "vt_sessie" not in r.headers.get("set-cookie", "")
    assert full.get("/").status_code == 200
    r = full.post("/uitloggen", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and full.get("/", follow_redirects=False).status_code == 303


def test_an_account_only_for_an_organisation_of_the_current_list(tmp_path):
    home = tmp_path / "wh"
    proc = run_vt("portal", "user", "add", "org99", "--vt-code", "VT99", home=home, check=False)
    assert proc.returncode == 1 and proc.stderr.startswith(
        "Error: VT99 is not a Veilig Thuis-organisatie of the VT-regio list of "
    )
    assert "account org99" not in run_vt("portal", "user", "list", home=home).stdout


def test_a_burst_of_logins_slows_only_the_logins(portal):
    """Sixty wrong logins at once (each an Argon2 hash): the stylesheet and a logged-in page answer while most of
    them are still waiting."""
    import anyio
    import httpx

    app = portal[2]
    order: list[str] = []

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            page = await c.get("/inloggen")
            token = csrf_of(page.text)

            async def attempt(i):
                await c.post("/inloggen", data={"csrf": token, "naam": f"nobody{i}", "wachtwoord": "x"})
                order.append("login")

            async def other():
                await anyio.sleep(0.05)
                r = await c.get("/portal.css")
                assert r.status_code == 200
                order.append("page")

            async with anyio.create_task_group() as tg:
                for i in range(60):
                    tg.start_soon(attempt, i)
                tg.start_soon(other)

    anyio.run(main)
    assert order.count("login") == 60 and order.index("page") < 30, order


def test_the_delivery_format_page_has_every_field_of_every_layout(portal):
    """Printable, made from the layout: per version and record type each field with its first and last position
    and length, and every code list a field uses with all its codes."""
    from html import escape

    from loaders.layout import code_lists, layouts

    _, _, app, pw = portal
    client = login(app, "vt06", pw["vt06"])
    assert '<a href="/bestandsdefinitie">bestandsdefinitie</a>' in client.get("/").text
    page = client.get("/bestandsdefinitie")
    assert page.status_code == 200 and "<style>" in page.text and "sha256-" in page.headers["content-security-policy"]
    text, lists = page.text, code_lists()
    for versie, layout in layouts().versions.items():
        section = text.split(f"<h2>Versie {versie}</h2>")[1].split("<h2>")[0]
        for rt in layout.record_types.values():
            for f in rt.fields:
                assert (
                    f"<tr><td>{f.name}</td><td class='n'>{f.start}</td><td class='n'>{f.start + f.length - 1}"
                    f"</td><td class='n'>{f.length}</td>"
                ) in section, (versie, rt.code, f.name)
                if f.codelijst in lists:
                    for code, omschrijving in lists[f.codelijst]:
                        assert f"<tr><td>{escape(code)}</td><td>{escape(omschrijving)}</td></tr>" in text
    assert (
        TestClient(app, base_url="https://testserver").get("/bestandsdefinitie", follow_redirects=False).status_code
        == 303
    )  # only for the logged-in


def test_a_file_wrong_as_a_whole_is_told_so_in_dutch(tmp_path):
    """Rules 1, 6 and 9 say what is wrong with the file in Dutch, from its VL record (the portal named it)."""
    from vt_warehouse.portal.upload import judge

    cases = []
    lines = small_delivery("VT05", "2020H1", "001")
    cases.append((lines[1:], 1, "het eerste record is geen VL-record"))
    odd = list(lines)
    odd[0] = odd[0][:6] + "2020X1" + odd[0][12:]
    cases.append((odd, 6, "de verslagperiode '2020X1' in het VL-record is geen JJJJH1 of JJJJH2 vanaf 2019"))
    odd = list(lines)
    odd[0] = odd[0][:20] + UNKNOWN_VERSION + odd[0][24:]
    cases.append((odd, 9, f"versie_bestandsdefinitie '{UNKNOWN_VERSION}' is onbekend (bekend: {KNOWN_VERSIONS})"))
    for n, (content, rule, text) in enumerate(cases):
        path = tmp_path / f"f{n}"
        path.write_bytes(("\n".join(content) + "\n").encode("latin-1"))
        verdict = judge(path, "VT05", tmp_path, tmp_path)
        assert not verdict.accepted and verdict.details[rule] == text, (rule, verdict.details)


def test_each_malformed_body_of_the_report_is_a_dutch_400(portal):
    """The reproductions: a boundary other than the header's, a part header without a colon, bytes before the
    first boundary, a 5,000-character boundary, CR-only line ends, a 10,000-character file name."""
    _, inbox, app, pw = portal
    client = login(app, "vt05", pw["vt05"])
    raw = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    raw.cookies = client.cookies
    csrf = csrf_of(raw.get("/").text)
    part = (
        b'Content-Disposition: form-data; name="csrf"\r\n\r\n' + csrf.encode() + b"\r\n--grens\r\n"
        b'Content-Disposition: form-data; name="bestand"; filename="x.txt"\r\n\r\nVL\r\n--grens--\r\n'
    )
    bodies = {
        "another boundary": (b"--anders\r\n" + part, b"grens"),
        "a part header without a colon": (
            b"--grens\r\nContent-Disposition form-data\r\n\r\nx\r\n--grens--\r\n",
            b"grens",
        ),
        "bytes before the first boundary": (b"\x00\xff" * 50 + b"--grens\r\n" + part, b"grens"),
        "a 5,000-character boundary": (b"--" + b"g" * 5000 + b"\r\n" + part, b"g" * 5000),
        "CR-only line ends": ((b"--grens\r\n" + part).replace(b"\r\n", b"\r"), b"grens"),
        "a 10,000-character file name": (
            b'--grens\r\nContent-Disposition: form-data; name="bestand"; filename="'
            + b"n" * 10_000
            + b'"\r\n\r\nVL\r\n--grens--\r\n',
            b"grens",
        ),
    }
    for what, (body, boundary) in bodies.items():
        r = raw.post(
            "/aanbieden", content=body, headers={"content-type": "multipart/form-data; boundary=" + boundary.decode()}
        )
        assert r.status_code in (400, 403, 422) and "content-security-policy" in r.headers, (what, r.status_code)
        assert "Geen bestand ontvangen" in r.text or "Geweigerd" in r.text or "Afgekeurd" in r.text, what
    assert list(inbox.iterdir()) == []


def test_rule_7_at_the_door_a_number_not_higher_than_a_loaded_one(portal, tmp_path):
    """With 002 loaded (in the archive), an upload of 001 or 002 would be refused by the loader: the portal refuses
    it, in Dutch, and nothing reaches the inbox; 003 is taken."""
    home, inbox, app, pw = portal
    archive = home / "archive" / "2020H2"
    archive.mkdir(parents=True)
    (archive / "VT05_2020H2_002.txt").write_text("loaded")
    client = login(app, "vt05", pw["vt05"])
    csrf = csrf_of(client.get("/").text)
    for nummer in ("001", "003"):
        path = write_delivery(tmp_path, small_delivery("VT05", "2020H2", nummer))
        r = client.post(
            "/aanbieden", data={"csrf": csrf}, files={"bestand": ("x.txt", path.read_bytes(), "text/plain")}
        )
        if nummer == "001":
            assert (
                r.status_code == 422
                and (
                    "het leveringsnummer 001 is niet hoger dan 002, dat al is geladen; geef "
                    "een correctie het volgende nummer"
                )
                in r.text
            )
            assert list(inbox.iterdir()) == []
    assert [p.name for p in inbox.iterdir()] == ["VT05_2020H2_003.txt"]
