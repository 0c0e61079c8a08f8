"""`zoo report` in a real browser: Debian's headless Chromium, driven by selenium (`nox -s browser`).

The test opens the site from file://, checks that every image loaded and that the console
stayed clean, sorts a leaderboard by clicking its headers, follows a link to a run page, and
saves screenshots of both pages: in ``$ZOO_TEST_ARTEFACTS`` when set, else in pytest's tmp
folder; their paths are printed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zoo_core.report import page_name

pytest.importorskip("selenium", reason="selenium is not installed; `nox -s browser` installs it")

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="no chromium and chromedriver: apt-get install -y chromium chromium-driver (Debian)",
)
# This machine's network is closed: everything that would reach out by itself is switched off.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1500",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver is named, so selenium's own manager never tries to download one.
    driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ZOO_TEST_ARTEFACTS") or tmp_path / "artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def loaded_cleanly(browser: Any) -> int:
    """Every image of the page has loaded and the console has no error; the number of images."""
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert broken == [], f"{browser.current_url}: images that did not load: {broken}"
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], f"{browser.current_url}: console errors: {errors}"
    return len(images)


def column(table: Any, label: str) -> tuple[Any, list[str]]:
    """The header whose button starts with ``label``, and the data-sort values of its cells."""
    from selenium.webdriver.common.by import By

    headers = table.find_elements(By.CSS_SELECTOR, "thead th")
    [index] = [i for i, th in enumerate(headers) if th.text.strip().startswith(label)]
    cells = table.find_elements(By.CSS_SELECTOR, f"tbody tr td:nth-child({index + 1})")
    return headers[index], [cell.get_attribute("data-sort") or cell.text for cell in cells]


def test_the_report_opens_sorts_and_follows_links_in_chromium(reported, browser, artefacts, capsys):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get((reported.site / "index.html").as_uri())
    assert browser.title == "zoo report"
    assert loaded_cleanly(browser) == 2  # a bar chart per dataset

    board = browser.find_element(By.ID, "board-classification")
    header, before = column(board, "accuracy")
    header.find_element(By.TAG_NAME, "button").click()  # higher is better: best first
    header, first = column(board, "accuracy")
    assert header.get_attribute("aria-sort") == "descending"
    assert [float(v) for v in first] == sorted((float(v) for v in before), reverse=True)
    header.find_element(By.TAG_NAME, "button").click()
    header, second = column(board, "accuracy")
    assert header.get_attribute("aria-sort") == "ascending" and second == first[::-1] != before

    runs = browser.find_element(By.ID, "runs-table")
    model, _ = column(runs, "model")
    model.find_element(By.TAG_NAME, "button").click()
    _, names = column(runs, "model")
    assert names == sorted(names) and names != sorted(names, reverse=True)
    index_shot = artefacts / "report-index.png"
    browser.find_element(By.TAG_NAME, "body").screenshot(str(index_shot))

    link = board.find_element(By.CSS_SELECTOR, f'a[href="runs/{page_name(reported.curves_run)}.html"]')
    link.click()
    WebDriverWait(browser, 60).until(expected_conditions.title_is(reported.curves_run))
    assert loaded_cleanly(browser) == 2  # its curves, drawn from the row, and its confusion matrix
    body = browser.find_element(By.TAG_NAME, "body").text
    assert reported.hostile in body and "best epoch" in body  # shown as text, never run
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    run_shot = artefacts / "report-run.png"
    browser.find_element(By.TAG_NAME, "body").screenshot(str(run_shot))

    browser.find_element(By.LINK_TEXT, "← the report").click()
    WebDriverWait(browser, 60).until(expected_conditions.title_is("zoo report"))
    assert index_shot.read_bytes().startswith(b"\x89PNG") and run_shot.read_bytes().startswith(b"\x89PNG")
    with capsys.disabled():
        print(f"\nscreenshots: {index_shot} {run_shot}")
