"""The digest and the weekly report as a browser really draws them (headless Chromium).

Golden files prove the HTML is what we meant; only a browser proves it *looks* right: the
inlined CSS applies, the charts' data: URIs decode, nothing hostile executes. The PNGs are
kept as test artifacts in `var/artifacts/` (or `$VIGIA_ARTIFACTS_DIR`); with
`VIGIA_UPDATE_DOCS=1` they also replace docs/digest.png and docs/weekly.png, the README's
screenshots. Skipped, with the reason, where Chromium is not installed.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from monitor.core.storage import Database
from reports.digest import preview_digest
from reports.weekly import parse_week, preview_weekly, save_standalone
from tests.digest_support import NOW as DIGEST_NOW
from tests.digest_support import seed, settings_for
from tests.weekly_support import seed_week, weekly_settings

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("VIGIA_ARTIFACTS_DIR", REPO / "var" / "artifacts"))
UPDATE_DOCS = os.environ.get("VIGIA_UPDATE_DOCS") == "1"
WIDTH, MAX_HEIGHT = 760, 6000
BACKGROUND = (0xF3, 0xF4, 0xF6)  # email.css body background
HEADER = (0x11, 0x18, 0x27)  # .header background
CHART_BLUE = (0x25, 0x63, 0xEB)  # charts.BRAND: only a decoded chart has it


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium); no screenshots")


def screenshot(html_file: Path, png: Path, tmp_path: Path) -> Image.Image:
    """Render `html_file` at an email client's width; the blank page bottom is trimmed."""
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",  # tests may run as root in CI containers
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            f"--window-size={WIDTH},{MAX_HEIGHT}",
            f"--screenshot={png}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    image = Image.open(png).convert("RGB")
    image = image.crop((0, 0, WIDTH, _content_height(image)))
    image.save(png, optimize=True)
    return image


def _content_height(image: Image.Image) -> int:
    """The last row that is not plain page background, plus a margin."""
    pixels = image.load()
    assert pixels is not None
    for y in range(image.height - 1, 0, -1):
        if any(pixels[x, y] != BACKGROUND for x in range(0, image.width, 4)):
            return min(image.height, y + 24)
    return image.height


def keep(png: Path, docs_name: str) -> None:
    print(f"screenshot saved: {png}")
    if UPDATE_DOCS:
        shutil.copyfile(png, REPO / "docs" / docs_name)


def colours(image: Image.Image) -> dict[tuple[int, int, int], int]:
    return {colour: n for n, colour in image.getcolors(maxcolors=1 << 22) or []}


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def test_digest_screenshot(
    db: Database, make_settings: Any, tmp_path: Path, artifacts: Path
) -> None:
    seed(db)
    rendered = preview_digest(db, settings_for(make_settings), now=DIGEST_NOW)
    page = tmp_path / "digest.html"
    page.write_text(rendered.html, encoding="utf-8")
    png = artifacts / f"digest-{db.engine.dialect.name}.png"
    image = screenshot(page, png, tmp_path)
    found = colours(image)
    assert found.get(HEADER, 0) > 10_000, "the header's inlined style did not apply"
    assert found.get((0xFE, 0xF0, 0x8A), 0) > 200, "no highlighted evidence (<mark>)"
    assert 1500 < image.height < MAX_HEIGHT
    keep(png, "digest.png")


def test_weekly_screenshot(
    db: Database, make_settings: Any, tmp_path: Path, artifacts: Path
) -> None:
    seed_week(db)
    settings = weekly_settings(make_settings)
    [report] = preview_weekly(db, settings, week=parse_week("2025-W46", settings))
    page = save_standalone(report, tmp_path / "weekly.html")
    png = artifacts / f"weekly-{db.engine.dialect.name}.png"
    image = screenshot(page, png, tmp_path)
    found = colours(image)
    assert found.get(HEADER, 0) > 10_000, "the header's inlined style did not apply"
    # The charts' blue appears only if the data: URI PNGs decoded and were drawn.
    assert found.get(CHART_BLUE, 0) > 2_000, "the charts did not render"
    assert 1500 < image.height < MAX_HEIGHT
    keep(png, "weekly.png")


def test_trimming_keeps_content() -> None:
    image = Image.new("RGB", (WIDTH, 400), BACKGROUND)
    image.paste(Image.new("RGB", (100, 100), HEADER), (10, 50))
    assert _content_height(image) == 150 + 23
    buffer = io.BytesIO()
    Image.new("RGB", (WIDTH, 10), BACKGROUND).save(buffer, format="PNG")
    assert _content_height(Image.open(buffer).convert("RGB")) == 10
