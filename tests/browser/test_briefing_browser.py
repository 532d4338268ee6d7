"""The briefing in a real browser: Debian's Chromium, headless, driven by Playwright.

Writes the briefing for the baseline against the plan (matplotlib's missing-glyph warnings and
a missing CJK font are errors while it is drawn), opens it in Chromium, reads back every tagged
number and checks it against the result tables, checks that the Chinese text is drawn with
real glyphs (pixels of each character against the missing-glyph box, and the font Chromium
used), and saves screenshots to results/browser/ (docs/briefing.png is one of them, checked
in).

A missing Chromium or Playwright is a failure, not a skip: ``make test`` installs Chromium
(``make chromium``) and the CJK fonts (``make fonts``).
"""

import io
import shutil
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import simcity_quality as sq  # noqa: E402
from simcity_quality import analysis as an  # noqa: E402
from simcity_quality.interface.fonts import CJKFontMissing  # noqa: E402
from simcity_quality.results.budget import line_totals, wide  # noqa: E402
from simcity_quality.results.statistics import paired_interval  # noqa: E402

pytestmark = pytest.mark.slow  # a real browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "results" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
CHINESE = "质量兴市方案"  # six different characters of the plan's title
MISSING = "\U000f0000"  # a private-use code point no font draws: the missing-glyph box


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's `chromium` is not on PATH, so the briefing cannot be checked in "
                    "a browser. Install it with `make chromium` (runs `apt-get install -y "
                    "chromium` as root); never `playwright install`.", pytrace=False)
    return path


@pytest.fixture(scope="module")
def briefing(tmp_path_factory, baseline, plan):
    """The baseline against the plan at a small size, written with glyph warnings as errors."""
    comp = sq.compare([baseline, plan], replications=6, seed=2010, resolution=1000)
    path = tmp_path_factory.mktemp("briefing") / "briefing.html"
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Glyph .* missing from font")
        warnings.simplefilter("error", CJKFontMissing)
        sq.briefing(comp, path)
    return comp, path


@pytest.fixture(scope="module")
def page(briefing):
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    _, path = briefing
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            pg = browser.new_page(viewport={"width": 1280, "height": 1000})
            pg.goto(path.as_uri())
            pg.wait_for_load_state("load")
            yield pg
        finally:
            browser.close()


def _fields(page) -> list[dict]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('[data-field]'))
        .map(e => Object.assign({text: e.textContent.trim()}, e.dataset))""")


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("+", ""))


def test_attainment_and_values_match_the_result_tables(briefing, page):
    comp, _ = briefing
    att = an.attainment(comp).set_index(["scenario", "target"])
    checked = 0
    for f in _fields(page):
        if "target" not in f:
            continue
        key = (f["scenario"], f["target"])
        if f["field"] in ("probability", "low", "high"):
            assert _number(f["text"]) == pytest.approx(100 * att.loc[key, f["field"]], abs=0.5)
        elif f["field"] == "mean":
            res = next(r for r in comp.results if r.name == f["scenario"])
            mean = res.targets.set_index("id").loc[f["target"], "mean"]
            assert _number(f["text"]) == pytest.approx(100 * mean, abs=0.05)
        checked += 1
    assert checked == 3 * len(att) + len(att) - 2  # chance and interval everywhere, no mean
                                                    # for "every target" (one per scenario)


def test_paired_effects_match_the_comparison(briefing, page):
    comp, _ = briefing
    d = comp.differences.query("kind == 'target_kpi'").set_index(["scenario", "metric"])
    column = {"difference": "difference", "low": "ci_low", "high": "ci_high"}
    fields = [f for f in _fields(page) if "metric" in f]
    assert len(fields) == 3 * len(d)
    for f in fields:
        expected = 100 * d.loc[(f["scenario"], f["metric"]), column[f["field"]]]
        assert _number(f["text"]) == pytest.approx(expected, abs=0.05)


def _per_replication_cost(res) -> dict:
    """payer:line -> yuan per replication, with gross, revenue and net (the budget module)."""
    t = wide(line_totals(res.budget, bases=("total", "gross", "revenue")))
    return {c: t[c].to_numpy() for c in t.columns}


HALF_CENT = 0.005 + 1e-9  # M yuan shown with two decimals


def test_paired_cost_matches_the_budget_tables(briefing, page):
    comp, _ = briefing
    ref, other = comp.reference, comp.results[1]
    a, b = _per_replication_cost(other), _per_replication_cost(ref)
    net = comp.differences.query("kind == 'budget'").set_index("metric")
    fields = [f for f in _fields(page) if "payer" in f]
    lines_shown = {(f["payer"], f["line"]) for f in fields}
    for payer in ("city", "province", "all"):
        for basis in ("gross", "revenue", "total"):
            assert (payer, basis) in lines_shown
    for f in fields:
        col = f"{f['payer']}:{f['line']}"
        zero = np.zeros(len(ref.final))
        diff = a.get(col, zero) - b.get(col, zero)
        mean, lo, hi, _ = paired_interval(diff)
        expected = {"reference": b.get(col, zero).mean(), "scenario": a.get(col, zero).mean(),
                    "difference": mean, "low": lo, "high": hi}[f["field"]]
        # shown to two decimals: at most half a hundredth off (exactly half where the value
        # ends in 5, plus the float's own error)
        assert _number(f["text"]) == pytest.approx(expected / 1e6, abs=HALF_CENT), f
        if f["field"] == "difference" and col in net.index:  # net lines: the comparison's own
            assert _number(f["text"]) == pytest.approx(net.loc[col, "difference"] / 1e6,
                                                       abs=HALF_CENT)


def _pixels(locator) -> np.ndarray:
    import matplotlib.image as mpimg

    return mpimg.imread(io.BytesIO(locator.screenshot()), format="png")[..., :3]


def test_chinese_renders_as_glyphs_not_boxes(page):
    page.evaluate("""([chars, missing]) => {
        const box = document.createElement('div');
        box.id = 'glyph-probe';
        for (const ch of [...chars, missing]) {
            const s = document.createElement('span');
            s.className = 'zh probe'; s.lang = 'zh-Hans'; s.textContent = ch;
            s.style.cssText = 'display:inline-block;font-size:40px;width:48px;height:56px;' +
                              'line-height:56px;text-align:center;background:#fff;color:#000';
            box.appendChild(s);
        }
        document.body.prepend(box);
    }""", [CHINESE, MISSING])
    spans = page.locator("#glyph-probe .probe")
    images = [_pixels(spans.nth(i)) for i in range(len(CHINESE) + 1)]
    box = images[-1]
    assert (box < 0.5).any(), "the missing-glyph reference drew nothing"
    for ch, img in zip(CHINESE, images, strict=False):
        assert (img < 0.5).sum() > 40, f"{ch} drew (almost) nothing"
        assert not np.array_equal(img, box), f"{ch} is drawn as the missing-glyph box"
    distinct = {img.tobytes() for img in images[:-1]}
    assert len(distinct) == len(CHINESE)  # boxes would all look alike
    # and Chromium says which font drew the page's own Chinese: a CJK one, every glyph
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": ".subtitle .zh"})["nodeId"]
    used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    assert used and all("CJK" in f["familyName"] for f in used), used
    page.evaluate("document.getElementById('glyph-probe').remove()")


def test_screenshots(page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "briefing.png"))  # the first screen, as docs/ shows it
    page.screenshot(path=str(SHOTS / "briefing_full.png"), full_page=True)
    assert (SHOTS / "briefing.png").stat().st_size > 50_000
