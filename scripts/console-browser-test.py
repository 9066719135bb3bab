#!/usr/bin/env python3
"""The web console in headless Chromium (Selenium), against a running `crmsync run --http-addr`.

Run by Tests/EndToEndTests/ConsoleEndToEndTests.swift (which starts the broker and crmsync, seeds three
review requests, and checks the store afterwards) when CRMSYNC_CONSOLE_BROWSER=1. Signs in as the
reviewer, walks every page (one screenshot each), approves `--review` through the form, checks that
a `<script>` in a deal name is shown as text, that the viewer gets no decision form, and follows the
health page's dead-letter class to a letter's escaped bytes.
Exits non-zero on the first failed check.
"""
import argparse
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def check(condition, message):
    if not condition:
        print(f"console browser test FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--review", required=True, help="the open request to approve")
    parser.add_argument("--identity", help="an open identity request to screenshot, if any")
    parser.add_argument("--screenshots", required=True)
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)

    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1360,1100"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)

    def shot(name, height=1100):
        """A screenshot; a taller window shows sections below the fold (no page script needed)."""
        if height != 1100:
            driver.set_window_size(1360, height)
        driver.save_screenshot(os.path.join(args.screenshots, f"{name}.png"))
        if height != 1100:
            driver.set_window_size(1360, 1100)

    def wait_for(element_id):
        """The element on the page a click led to (a click does not wait for the next page)."""
        return WebDriverWait(driver, 20).until(EC.presence_of_element_located((By.ID, element_id)))

    def sign_in(name, password):
        driver.delete_all_cookies()
        driver.get(args.base + "/console/signin")
        driver.find_element(By.ID, "name").send_keys(name)
        driver.find_element(By.ID, "password").send_keys(password)
        driver.find_element(By.ID, "signin").click()
        wait_for("who")

    try:
        driver.get(args.base + "/console/reviews")
        check("/console/signin" in driver.current_url, "an anonymous visit goes to the sign-in page")
        shot("01-signin")

        sign_in("vic", "vic-pass-1")
        driver.get(args.base + f"/console/reviews/{args.review}")
        check(driver.find_element(By.ID, "comparison").is_displayed(), "a viewer sees the request")
        check(not driver.find_elements(By.ID, "decide"), "a viewer gets no decision form")
        shot("02-viewer-request")

        sign_in("rita", "rita-pass-1")
        check(driver.current_url.endswith("/console/reviews"), f"signed in, on the queue (at {driver.current_url})")
        check(driver.find_element(By.ID, "who").text == "rita", "the header names the signed-in user")
        shot("03-queue")

        if args.identity:
            driver.get(args.base + f"/console/reviews/{args.identity}")
            check(len(driver.find_elements(By.CSS_SELECTOR, "#comparison th")) >= 3, "the held event stands next to its candidates")
            shot("03b-identity-request")
            driver.get(args.base + "/console/reviews")
            wait_for("queue")

        driver.find_element(By.CSS_SELECTOR, f'a[href="/console/reviews/{args.review}"]').click()
        check(wait_for("comparison").is_displayed(), "the request page compares values")
        shot("04-request")
        driver.find_element(By.ID, "comment").send_keys("approved in the browser test")
        driver.find_element(By.ID, "approve").click()
        flash = wait_for("flash").text
        check(args.review in flash and "approved" in flash, f"the queue confirms the approval ({flash!r})")
        shot("05-queue-after-approval")

        driver.get(args.base + "/console/records?q=salesforce:006S")
        fields = driver.find_element(By.ID, "fields").text
        check("Renewal <script>alert(1)</script>" in fields, "the <script> in the deal name is shown as text")
        check(not driver.find_elements(By.XPATH, "//table[@id='fields']//script"), "no script element was injected")
        check(driver.find_element(By.ID, "chain").text == "hash chain verified", "the audit chain verifies")
        shot("06-record")

        driver.get(args.base + "/console/records?q=ana.ruiz@acme.io")
        kept = driver.find_element(By.ID, "kept-out").text
        check("job_title" in kept and "Chief Financial Officer" in kept, f"the value kept out is listed with why ({kept!r})")
        shot("06b-record-kept-out", height=2200)

        driver.get(args.base + "/console/health")
        check(driver.find_element(By.ID, "sources").is_displayed(), "the health page lists the sources")
        check(driver.find_element(By.ID, "windows").is_displayed(), "the health page has the hour and day windows")
        check(driver.find_element(By.ID, "lag").is_displayed(), "the health page shows the consumer lag per partition")
        shot("07-health", height=2200)

        driver.find_element(By.CSS_SELECTOR, "#dlq a.open").click()
        check(wait_for("letters").is_displayed(), "a class's dead letters are listed")
        shot("08-dead-letters")
        driver.find_element(By.CSS_SELECTOR, "#letters a.open").click()
        value = wait_for("value").text
        check("{not json <b>" in value, f"the letter's original bytes are shown as text ({value!r})")
        check(not driver.find_elements(By.XPATH, "//pre[@id='value']//b"), "no markup from the letter was rendered")
        check(driver.find_element(By.ID, "reason").text != "", "the letter says why it failed")
        shot("09-dead-letter", height=1700)

    finally:
        driver.quit()
    print(f"console browser test passed; screenshots in {args.screenshots}", file=sys.stderr)


if __name__ == "__main__":
    main()
