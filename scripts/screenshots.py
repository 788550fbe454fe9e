"""Log in to a running app in headless Chromium, open every page in the navigation and save a
full-page screenshot of each (development check of `make run`; the browser tests are in tests/).

    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000 --password PW [--out var/screenshots]
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import sync_playwright


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", default="var/screenshots")
    parser.add_argument("--language", default="sv")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=args.language)
        page.goto(urljoin(args.url, "/accounts/login/"))
        page.fill("input[name=username]", args.username)
        page.fill("input[name=password]", args.password)
        page.click("form.stack [type=submit]")
        page.wait_for_load_state("networkidle")
        links = page.eval_on_selector_all(
            "nav.mainnav a[href]", "els => els.map(e => e.getAttribute('href'))"
        )
        paths = sorted(
            {urlsplit(href).path for href in links if "logout" not in href and "admin" not in href}
        )
        for path in paths:
            response = page.goto(urljoin(args.url, path))
            page.wait_for_load_state("networkidle")
            name = re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "home"
            page.screenshot(path=str(out / f"{args.language}-{name}.png"), full_page=True)
            status = response.status if response else "?"
            print(f"{status} {path} -> {out / f'{args.language}-{name}.png'}")
        browser.close()


if __name__ == "__main__":
    main()
