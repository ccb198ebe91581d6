"""The portal in a real browser: Debian's Chromium driven by Selenium through Debian's chromedriver (offline),
against `vt portal serve` in its own process. An organisation logs in with its password, sets up its second
factor from the page and confirms a TOTP code, uploads a generated delivery and sees the verdict; after the
refresh's load and quality steps it sees its reports and opens the kwaliteitsrapport. Screenshots are kept in
build/test-artefacts/portal/."""

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

from loaders.portal import totp
from tests.conftest import KEY, RELEASE_KEY, run_vt, small_delivery, write_delivery

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
    proc = subprocess.Popen([sys.executable, "-m", "loaders.cli", "portal", "serve", "--inbox", str(inbox),
                             "--port", str(port), "--max-mb", "5"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
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
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    yield driver
    driver.quit()


def arrive(driver, address: str) -> None:
    """Wait for the page a click leads to (a click returns before the browser has navigated)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, 20).until(lambda d: d.current_url == address and
                                        d.execute_script("return document.readyState") == "complete")
    except TimeoutException:
        pytest.fail(f"not at {address} but {driver.current_url}: {driver.page_source[-1500:]}")


def shot(driver, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTEFACTS / f"{name}.png"))


def test_an_organisation_logs_in_with_two_factors_uploads_and_fetches_its_report(server, browser, tmp_path):
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
    browser.find_element(By.NAME, "code").send_keys(totp.code(secret, totp.current_step()))
    browser.find_element(By.CSS_SELECTOR, "form[action='/tweede-factor'] button").click()
    arrive(browser, url + "/")
    assert "Nog geen leveringen." in browser.page_source
    delivery = write_delivery(tmp_path, small_delivery("VT05", "2020H1", "001"))
    browser.find_element(By.NAME, "bestand").send_keys(str(delivery))
    browser.find_element(By.CSS_SELECTOR, "form[action='/aanbieden'] button").click()
    arrive(browser, url + "/aanbieden")
    verdict = browser.find_element(By.CSS_SELECTOR, "p.goed").text
    assert verdict.startswith("Ontvangen: levering VT05_2020H1_001 voldoet aan de bestandsregels")
    shot(browser, "3-aangeboden")
    assert [p.name for p in inbox.iterdir()] == ["VT05_2020H1_001.txt"]
    # the refresh's first steps: load the inbox, write the quality reports
    run_vt("load", "--received-at", "2020-07-25", str(inbox / "VT05_2020H1_001.txt"), home=home)
    run_vt("quality", "--delivery", "VT05_2020H1_001", "--out", str(home / "kwaliteit"), home=home, check=False)
    browser.get(url + "/")
    row = browser.find_element(By.XPATH, "//tr[td[text()='VT05_2020H1_001']]").text
    assert "geladen, rapporten klaar" in row
    shot(browser, "4-rapporten-klaar")
    browser.find_element(By.LINK_TEXT, "kwaliteitsrapport.html").click()
    arrive(browser, url + "/rapport/VT05_2020H1_001/kwaliteitsrapport.html")
    heading = browser.find_element(By.TAG_NAME, "h1")
    assert heading.text == "Kwaliteitsrapport levering VT05_2020H1_001"
    # its own stylesheet applies (allowed by its hash), so it looks as it does opened from disk
    assert browser.execute_script("return getComputedStyle(document.body).fontFamily") != '"Times New Roman"'
    shot(browser, "5-kwaliteitsrapport")
    # another organisation's report by its address: not found
    browser.get(url + "/rapport/VT06_2020H1_001/kwaliteitsrapport.html")
    assert "Deze pagina of dit bestand bestaat niet." in browser.page_source
