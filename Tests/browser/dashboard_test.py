#!/usr/bin/env python3
"""Drives the dashboard in a real headless Chromium (Selenium, chromium-driver) against a real
Baton API and PostgreSQL: the list shows sessions created through SQL, the token is asked for
and a wrong one refused, Proceed and Retry change the database, and steps finishing elsewhere
update the open pages without a reload.

Run by Tests/BatonTests/DashboardBrowserTests.swift (scripts/test); by hand:
    dashboard_test.py --base http://127.0.0.1:8080 --database postgresql://... --token T
The API must have BATON_API_TOKEN=T. Every wait is on a condition (WebDriverWait, or the
database's answer), never a fixed sleep.

    dashboard_test.py screenshots --base URL --token T --out docs/img --session ID
writes the screenshots of the README (scripts/screenshots).
"""
import argparse
import json
import shutil
import sys
import time

import psycopg
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 60  # seconds for any one condition; the machine may be loaded


def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        sys.exit("chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver; "
                 "scripts/test installs them)")
    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=en-GB"]:
        options.add_argument(argument)
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


class Check:
    """The browser, the database, and waits on conditions with messages that say what was expected."""

    def __init__(self, driver, base, database):
        self.driver = driver
        self.base = base.rstrip("/")
        self.database = database

    def open(self, path):
        self.driver.get(self.base + path)

    def until(self, condition, what):
        try:
            # The page re-renders what changed: an element found a moment ago may be gone.
            return WebDriverWait(self.driver, TIMEOUT, poll_frequency=0.1,
                                 ignored_exceptions=[StaleElementReferenceException]).until(lambda d: condition())
        except TimeoutException:
            raise AssertionError(f"waited {TIMEOUT} s for: {what}\npage: {self.driver.current_url}\n"
                                 f"message shown: {self.text('#notice-text') or '(none)'}\n"
                                 f"{self.text('main')[:2000]}") from None

    def find(self, css):
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def text(self, css):
        node = self.find(css)
        return node.text if node else ""

    def attribute(self, css, name):
        node = self.find(css)
        return node.get_attribute(name) if node else None

    def visible(self, css):
        node = self.find(css)
        return node is not None and node.is_displayed()

    def sql(self, query, *parameters):
        with psycopg.connect(self.database, autocommit=True) as connection:
            return connection.execute(query, parameters).fetchall()

    def finish_step(self, kind, succeed=True):
        """Runs the next step of a session of `kind` as a worker elsewhere would: claims it
        and completes (or fails) it through Baton's SQL functions."""
        with psycopg.connect(self.database, autocommit=True) as connection:
            task = self.until(lambda: connection.execute(
                "SELECT task_id FROM baton.claim_tasks('browser-test', 1, ARRAY[%s], 1) WHERE NOT lock_busy",
                [kind]).fetchone(), f"a ready step of kind {kind}")[0]
            if succeed:
                connection.execute("SELECT baton.complete_task(%s, %s::jsonb)", [task, json.dumps({"done": kind})])
            else:
                connection.execute("SELECT baton.fail_task(%s, %s)", [task, "the browser test failed this step"])

    def mark_page(self):
        """A marker that a reload would lose."""
        self.driver.execute_script("window.__sameDocument = 'yes';")

    def assert_same_page(self):
        assert self.driver.execute_script("return window.__sameDocument") == "yes", "the page was reloaded"

    def status_in_database(self, session):
        return self.sql("SELECT status, phase FROM baton.sessions WHERE id = %s", session)[0]


def run_tests(check, token):
    # Sessions made through SQL, the way any language would.
    for number in (1, 2, 3):
        check.sql("SELECT baton.create_session(1, %s::jsonb, %s, 'browser-list')",
                  json.dumps({"n": number, "html": "<b>not bold</b>"}), f"list-{number}")
    check.sql("SELECT baton.create_session(2, '{}', 'gate-1', 'browser-gate')")
    check.sql("SELECT baton.create_session(1, '{}', 'fail-1', 'browser-fail')")
    check.sql("SELECT baton.create_session(1, '{}', 'live-1', 'browser-live')")
    for _ in range(3):
        check.finish_step("browser-gate")
    assert check.status_in_database("gate-1") == ("AWAITING_PROCEED", 2)
    check.finish_step("browser-fail", succeed=False)
    assert check.status_in_database("fail-1")[0] == "FAILED"

    # The server has a token: the page asks for it (only now), refuses a wrong one, takes the right one.
    check.open("/")
    check.until(lambda: check.visible("#token-form"), "the token form after the API answered 401")
    assert "needs an API token" in check.text("#token-message"), check.text("#token-message")
    check.find("#token-input").send_keys("not-the-token")
    check.find("#token-form button[type=submit]").click()
    check.until(lambda: check.find("#token-form").get_attribute("data-state") == "refused"
                and check.visible("#token-form"), "the wrong token refused")
    assert "refused" in check.text("#token-message"), check.text("#token-message")
    assert not check.find("#rows a"), "no data shown without the right token"
    check.find("#token-input").send_keys(token)
    check.find("#token-form button[type=submit]").click()

    # The list shows the sessions created through SQL, their data as text.
    for session in ("list-1", "list-2", "list-3", "gate-1", "fail-1", "live-1"):
        check.until(lambda: check.find(f"tr[data-id='{session}']"), f"the row of {session}")
    assert not check.visible("#token-form"), "the token form hides once the token works"
    check.until(lambda: check.attribute("tr[data-id='gate-1']", "data-status") == "AWAITING_PROCEED", "gate-1 at the gate")
    check.until(lambda: check.text("a[data-count='browser-fail/FAILED']") == "1", "the count of FAILED sessions of kind browser-fail")

    # The list follows changes made elsewhere, without a reload: a row's status and the counts.
    check.mark_page()
    check.until(lambda: check.attribute("tr[data-id='live-1']", "data-status") == "PENDING", "live-1 PENDING")
    check.finish_step("browser-live")
    check.until(lambda: check.attribute("tr[data-id='live-1']", "data-status") == "EXECUTING",
                "live-1 shown EXECUTING after its THINK step finished elsewhere")
    check.until(lambda: check.text("a[data-count='browser-live/EXECUTING']") == "1", "the counts follow")
    check.assert_same_page()

    # Links are real URLs; the token is kept for the tab (not asked again).
    check.until(lambda: check.find("tr[data-id='live-1'] a").click() or True, "a click on live-1's link")
    check.until(lambda: check.driver.current_url.endswith("/sessions/live-1"), "the session's own URL")
    check.until(lambda: check.find("button[data-cell='1/THINK']"), "the phases × steps grid")
    assert not check.visible("#token-form"), "the token is not asked for again"

    # A step finishing elsewhere updates the open session without a reload.
    check.mark_page()
    check.finish_step("browser-live")
    check.until(lambda: "COMPLETED" in check.text("button[data-cell='1/EXECUTE']"),
                "EXECUTE shown COMPLETED after it finished elsewhere")
    check.assert_same_page()
    check.until(lambda: check.find("button[data-cell='1/EXECUTE']").click() or True, "a click on the EXECUTE cell")
    check.until(lambda: "browser-live" in check.text("#step-body"), "the step's result and attempts")

    # At the gate: the phase's results for review, then Proceed with a note and a payload.
    check.open("/sessions/gate-1")
    check.until(lambda: check.visible("#gate"), "the review at the gate")
    assert "browser-gate" in check.text("#gate-results"), check.text("#gate-results")
    check.find("#proceed-note").send_keys("Looks right; go on.")
    check.find("#proceed-payload").send_keys('{"tone": "formal"}')
    check.find("#proceed-reviewer").send_keys("browser")
    check.find("#proceed").click()
    check.until(lambda: check.status_in_database("gate-1")[0] != "AWAITING_PROCEED", "gate-1 past the gate in the database")
    assert check.status_in_database("gate-1")[1] == 2
    reviews = check.sql("SELECT reviewer, note, payload FROM baton.reviews WHERE session_id = 'gate-1'")
    assert reviews == [("browser", "Looks right; go on.", {"tone": "formal"})], reviews
    check.until(lambda: "Looks right; go on." in check.text("#history"), "the review in the session's history")
    check.until(lambda: not check.visible("#gate"), "the gate form gone once past the gate")

    # Retry on a FAILED session resumes it.
    check.open("/sessions/fail-1")
    check.until(lambda: check.visible("#retry"), "the Retry button of a FAILED session")
    assert "the browser test failed this step" in check.text("#session-error") + check.text("#history")
    check.find("#retry").click()
    check.until(lambda: check.status_in_database("fail-1")[0] != "FAILED", "fail-1 resumed in the database")
    check.until(lambda: check.attribute("#status", "data-status") not in (None, "FAILED"),
                "the page shows fail-1 resumed")

    # A session id with markup is shown as text.
    check.sql("SELECT baton.create_session(1, '{}', '<img src=x>', 'browser-list')")
    check.open("/sessions/" + "%3Cimg%20src%3Dx%3E")
    check.until(lambda: check.find("#status"), "the session with markup in its id")
    assert check.text("h1") == "Session <img src=x>", check.text("h1")
    assert not check.driver.find_elements(By.CSS_SELECTOR, "main img"), "no element made from data"

    problems = [entry for entry in check.driver.get_log("browser") if entry["level"] == "SEVERE"
                and "401" not in entry["message"]]
    assert not problems, f"errors in the browser console: {problems}"


def screenshots(check, token, out, session):
    """The list, a session at the gate and the statistics, at a laptop's and a phone's width."""
    check.open("/")
    check.driver.execute_script("sessionStorage.setItem('baton.apiToken', arguments[0])", token)
    pages = [("/", "list", "#rows a"), (f"/sessions/{session}", "session", "#gate:not([hidden])"),
             ("/statistics", "statistics", "#kinds table")]
    for width, label in ((1280, "laptop"), (390, "phone")):
        for path, name, ready in pages:
            check.driver.set_window_size(width, 900)
            check.open(path)
            check.until(lambda: check.find(ready) and check.text("#live") == "live", f"{path} loaded")
            # Grow the window until the whole page fits (the window's frame takes some of it).
            for _ in range(5):
                missing = check.driver.execute_script(
                    "return document.documentElement.scrollHeight - window.innerHeight")
                size = check.driver.get_window_size()
                if missing <= 0 or size["height"] >= 2600:
                    break
                check.driver.set_window_size(width, min(size["height"] + missing, 2600))
            check.driver.save_screenshot(f"{out}/dashboard-{name}-{label}.png")
            print(f"wrote {out}/dashboard-{name}-{label}.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="test", choices=["test", "screenshots"])
    parser.add_argument("--base", required=True, help="the API's base URL")
    parser.add_argument("--database", help="the database's URL (test mode)")
    parser.add_argument("--token", required=True, help="the server's BATON_API_TOKEN")
    parser.add_argument("--out", default="docs/img", help="where screenshots go")
    parser.add_argument("--session", help="a session at the gate, for the screenshots")
    arguments = parser.parse_args()
    driver = browser()
    started = time.monotonic()
    try:
        check = Check(driver, arguments.base, arguments.database)
        if arguments.mode == "screenshots":
            screenshots(check, arguments.token, arguments.out, arguments.session)
        else:
            if not arguments.database:
                parser.error("--database is needed to run the tests")
            run_tests(check, arguments.token)
            print(f"dashboard browser test passed in {time.monotonic() - started:.1f} s")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
