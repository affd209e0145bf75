"""The HTML report on a phone: it fits 390 px without sideways scrolling and names no folder of
the server it was made on."""

from __future__ import annotations

from pathlib import Path


def test_the_report_fits_a_phone_and_holds_no_server_path(chromium, browser_atlas, tmp_path):
    from soundatlas.atlas.model import load_atlas
    from soundatlas.reports import write_report

    atlas = load_atlas(browser_atlas)
    report = write_report(atlas, tmp_path / "report.html")
    text = Path(report).read_text(encoding="utf-8")
    folder = str(Path(atlas.report.source).parent)
    assert folder not in text and str(browser_atlas) not in text
    assert "Recommended: " in text
    for width, height in ((390, 844), (1440, 900)):
        page = chromium.new_page(viewport={"width": width, "height": height})
        try:
            page.goto(Path(report).as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            page.close()
