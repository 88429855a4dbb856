"""The clerk's story in a real browser (Debian's chromium driven by Playwright): sign in, check a workbook with a
wrong 合计, see the cell, fix it, submit, print the receipt; the office sees the unit accepted; another unit's clerk
cannot open the page. The screenshots are the ones docs/platform.md shows."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.web import workbooks
from tests.web.conftest import MONTH, PASSWORD, Platform
from tests.web.live import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "platform"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless chromium for the session (root needs --no-sandbox)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required under CI=true (apt-get install chromium fonts-noto-cjk)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def shot(page, name: str, folder: Path) -> None:
    """A full-page screenshot: into docs/platform/ when FUPIN_DOCS_SHOTS=1 (to refresh the guide), else tmp."""
    target = SHOTS if os.environ.get("FUPIN_DOCS_SHOTS") == "1" else folder
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.slow
def test_a_clerk_checks_fixes_submits_and_prints_the_receipt(browser, platform: Platform, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from fupin.web.app import create_app

    cfg = platform.rt.config
    bad, address = workbooks.wrong_total(cfg, "chaoyang", tmp_path)
    (tmp_path / "2020-09_朝阳区.xlsx").write_bytes(bad)
    fixed = tmp_path / "fixed" / "2020-09_朝阳区.xlsx"
    fixed.parent.mkdir()
    fixed.write_bytes(workbooks.valid(cfg, "chaoyang", tmp_path))
    web = replace(platform.web, max_upload_bytes=20 << 20)  # the default cap, as the guide's screenshots show it
    with serving(create_app(platform.rt, web)) as base:
        clerk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        page = clerk.new_page()
        page.goto(f"{base}/unit")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        shot(page, "login", tmp_path)
        sign_in(page, base, "cy-clerk")
        expect(page.locator("#month-status")).to_contain_text("未报送")
        shot(page, "unit", tmp_path)

        page.set_input_files("input[name=file]", str(tmp_path / "2020-09_朝阳区.xlsx"))
        page.click("#check-button")
        cell = page.locator(f'td.num.error[data-cell="{address}"]')
        expect(cell).to_be_visible()
        expect(page.locator("#form-grid")).to_contain_text("合计应等于各地区之和")
        expect(page.locator("#result-status")).to_contain_text("未通过")
        shot(page, "check", tmp_path)

        page.goto(f"{base}/unit")
        page.set_input_files("input[name=file]", str(fixed))
        page.click("#submit-button")
        expect(page.locator("#result-status")).to_contain_text("已接收，第1版")
        submission_url = page.url
        shot(page, "submitted", tmp_path)

        page.click("#receipt-link")
        expect(page.locator("#receipt-facts")).to_contain_text("北京市朝阳区")
        shot(page, "receipt", tmp_path)
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4", print_background=True)
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # the receipt prints on one A4 page
        clerk.close()

        the_office_sees_it_accepted(browser, base, tmp_path)
        another_clerk_cannot_open_it(browser, base, submission_url)


def the_office_sees_it_accepted(browser, base: str, folder: Path) -> None:
    from playwright.sync_api import expect

    office = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = office.new_page()
    sign_in(page, base, "office")
    page.goto(f"{base}/board?month={MONTH}")
    expect(page.locator('#board-matrix tr[data-unit="chaoyang"] td.state')).to_contain_text("已接收")
    shot(page, "board", folder)
    office.close()


def another_clerk_cannot_open_it(browser, base: str, url: str) -> None:
    from playwright.sync_api import expect

    other = browser.new_context(locale="zh-CN")
    page = other.new_page()
    sign_in(page, base, "hd-clerk")
    answer = page.goto(url)
    assert answer is not None and answer.status == 404
    expect(page.locator("#error-detail")).to_contain_text("没有这个报送记录")
    assert "朝阳" not in page.content()
    other.close()
