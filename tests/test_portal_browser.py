"""The portal in a real browser: Debian's Chromium driven by Selenium through Debian's chromedriver (offline),
against `vt portal serve` in its own process. An organisation logs in with its password, sets up its second
factor from the page's QR code and confirms a TOTP code, uploads deliveries under any name and sees the verdict;
the portal's worker loads them and writes their reports within minutes, and the organisation reads them.
Screenshots are kept in build/test-artefacts/portal/."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import KEY, RELEASE_KEY, run_vt, small_delivery
from vt_warehouse.portal import totp

ARTEFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artefacts" / "portal"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    home, inbox = tmp_path / "wh", tmp_path / "inbox"
    inbox.mkdir()
    password = run_vt("portal", "user", "add", "vt05", "--vt-code", "VT05", home=home).stdout.rsplit(" ", 1)[1].strip()
    port = free_port()
    env = {**os.environ, "VT_HOME": str(home), "VT_PSEUDONYM_KEY": KEY, "VT_RELEASE_KEY": RELEASE_KEY}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vt_warehouse.cli",
            "portal",
            "serve",
            "--inbox",
            str(inbox),
            "--port",
            str(port),
            "--max-mb",
            "5",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 90  # a loaded machine (CI beside other work) starts Python slowly
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"vt portal serve did not start: {proc.communicate()[1].decode()[-2000:]}")
            time.sleep(0.2)
    yield home, inbox, f"http://127.0.0.1:{port}", password
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromedriver = shutil.which("chromedriver")
    assert chromedriver, "Debian's chromium-driver is needed (make test installs it)"
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    yield driver
    driver.quit()


def arrive(driver, address: str) -> None:
    """Wait for the page a click leads to (a click returns before the browser has navigated)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, 20).until(
            lambda d: d.current_url == address and d.execute_script("return document.readyState") == "complete"
        )
    except TimeoutException:
        pytest.fail(f"not at {address} but {driver.current_url}: {driver.page_source[-1500:]}")


def shot(driver, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTEFACTS / f"{name}.png"))


def qr_text(element) -> str:
    """What a QR code on the page says, read back from its screenshot (zxing-cpp, as a phone's camera app)."""
    import numpy as np
    import zxingcpp

    from tests.conftest import png_pixels

    path = ARTEFACTS / "qr.png"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path.write_bytes(element.screenshot_as_png)
    width, bpp, rows = png_pixels(path)
    image = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), width, bpp)[:, :, :3]
    found = zxingcpp.read_barcodes(np.ascontiguousarray(image))
    assert len(found) == 1, "no QR code readable on the set-up page"
    return found[0].text


def wait_for_reports(browser, url: str, levering: str, seconds: float) -> float:
    """Reload the deliveries page until the delivery's reports are listed (the worker's intake); the time taken."""
    from selenium.webdriver.common.by import By

    started = time.monotonic()
    while True:
        browser.get(url + "/")
        rows = browser.find_elements(By.XPATH, f"//tr[td[text()='{levering}']]")
        if rows and "geladen, rapporten klaar" in rows[0].text:
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            pytest.fail(f"no reports of {levering} after {seconds} s: {rows[0].text if rows else 'not listed'}")
        time.sleep(2)


INTAKE_SECONDS = 240  # docs/operator.md's promise: a verdict within a few minutes of the upload


@pytest.mark.slow(seconds=150)
def test_the_whole_correction_cycle_as_an_organisation_sees_it(server, browser, tmp_path):
    """Log in, set up the second factor from its QR code, upload a file with a wrong line (refused, each line's
    fault in Dutch), then the file under any name (accepted, named from its VL record); the worker loads it and
    writes its reports within minutes; the report leads with its fout rule, by field, and says where the delivery
    counts; a correction (002) replaces it and is approved."""
    from selenium.webdriver.common.by import By

    home, inbox, url, password = server
    browser.get(url + "/")
    assert browser.current_url == url + "/inloggen"
    browser.find_element(By.NAME, "naam").send_keys("vt05")
    browser.find_element(By.NAME, "wachtwoord").send_keys(password)
    shot(browser, "1-inloggen")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    arrive(browser, url + "/tweede-factor")
    secret = browser.find_element(By.CSS_SELECTOR, "code.geheim").text
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    shot(browser, "2-tweede-factor-instellen")
    assert qr_text(browser.find_element(By.CSS_SELECTOR, "div.qr svg")) == totp.provisioning_uri(secret, "vt05")
    browser.find_element(By.NAME, "code").send_keys(totp.code(secret, totp.current_step()))
    browser.find_element(By.CSS_SELECTOR, "form[action='/tweede-factor'] button").click()
    arrive(browser, url + "/")
    assert "Nog geen leveringen." in browser.page_source

    def upload(name: str, lines: list[str]) -> None:
        path = tmp_path / name
        path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
        browser.get(url + "/")
        browser.find_element(By.NAME, "bestand").send_keys(str(path))
        browser.find_element(By.CSS_SELECTOR, "form[action='/aanbieden'] button").click()
        arrive(browser, url + "/aanbieden")

    lines = small_delivery("VT05", "2020H1", "001")
    ad = next(i for i, line in enumerate(lines) if line.startswith("AD"))
    lines[ad] = lines[ad].replace("20200301", "20200231")  # an impossible date: KR02, a fout rule
    broken = list(lines)
    broken[2] = broken[2][:40] + "\xe9" + broken[2][41:]
    upload("mijn levering (juni).txt", broken)
    assert "Afgekeurd: het bestand voldoet niet aan de bestandsdefinitie" in browser.page_source
    assert (
        "regel 3: teken 41 is byte 0xE9 ('é' in Latin-1), geen afdrukbaar ASCII-teken"
        in browser.find_element(By.CSS_SELECTOR, "ul.regels").text
    )
    shot(browser, "3-afgekeurd-per-regel")
    assert list(inbox.iterdir()) == []
    upload("levering juni.dat", lines)
    assert browser.find_element(By.CSS_SELECTOR, "p.goed").text.startswith(
        "Ontvangen: levering VT05_2020H1_001 voldoet aan de bestandsregels"
    )
    assert "binnen enkele minuten geladen en gecontroleerd" in browser.page_source
    took = wait_for_reports(browser, url, "VT05_2020H1_001", INTAKE_SECONDS)
    row = browser.find_element(By.XPATH, "//tr[td[text()='VT05_2020H1_001']]").text
    assert "afgekeurd" in row
    shot(browser, "4-rapporten-klaar")
    browser.find_element(By.LINK_TEXT, "kwaliteitsrapport.html").click()
    arrive(browser, url + "/rapport/VT05_2020H1_001/kwaliteitsrapport.html")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Oordeel: afgekeurd. 1 foutregel overtreden: KR02." in text
    assert "Deze levering telt in geen enkele release mee: zij kwam na de peildatum van 2020V1" in text
    headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
    assert (
        headings.index("Fouten")
        < headings.index("Waarschuwingen")
        < headings.index("Niet te controleren")
        < headings.index("Alle regels")
    )
    assert "AD.startdatum: 1" in [h.text for h in browser.find_elements(By.TAG_NAME, "h4")]
    # its own stylesheet applies (allowed by its hash), so it looks as it does opened from disk
    assert browser.execute_script("return getComputedStyle(document.body).fontFamily") != '"Times New Roman"'
    shot(browser, "5-kwaliteitsrapport")
    browser.find_element(By.LINK_TEXT, "bestandsdefinitie").click()
    arrive(browser, url + "/rapport/VT05_2020H1_001/bestandsdefinitie.html")
    assert "Bestandsdefinitie van de levering" in browser.find_element(By.TAG_NAME, "h1").text
    # the correction: the same half-year, leveringsnummer 002, the date put right
    fixed = small_delivery("VT05", "2020H1", "002")
    upload("correctie.txt", fixed)
    took = max(took, wait_for_reports(browser, url, "VT05_2020H1_002", INTAKE_SECONDS))
    assert "goedgekeurd" in browser.find_element(By.XPATH, "//tr[td[text()='VT05_2020H1_002']]").text
    browser.get(url + "/rapport/VT05_2020H1_002/kwaliteitsrapport.html")
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Oordeel: goedgekeurd." in text and "Vervangt levering VT05_2020H1_001" in text
    shot(browser, "6-correctie-goedgekeurd")
    print(f"intake: the slower report followed its upload in {took:.0f} s")
    # the worker ran the refresh's intake: loads and reports, no release (the scheduled run builds those)
    log = (home / "logs" / "refresh.log").read_text()
    assert log.count("refresh started (intake: load and quality reports only)") >= 2
    assert "1 files loaded; 0 rejected; 1 quality reports; releases: at the next full run" in log
    assert "releases built in one dbt process" not in log
    # another organisation's report by its address: not found
    browser.get(url + "/rapport/VT06_2020H1_001/kwaliteitsrapport.html")
    assert "Deze pagina of dit bestand bestaat niet." in browser.page_source
