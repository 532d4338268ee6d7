"""Charts of finished runs: plain titles in English and Chinese, labelled percentage axes on one
honest scale, the start-up months of trailing rates left out, and the CJK font found."""

import warnings

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import simcity_quality as sq  # noqa: E402
from simcity_quality.interface import fonts  # noqa: E402
from simcity_quality.interface.report import figure_kpis_vs_targets  # noqa: E402
from simcity_quality.targets import PLAIN_NAMES, TARGET_IDS, plain_name  # noqa: E402


@pytest.fixture(scope="module")
def comparison(baseline, plan):
    return sq.compare([baseline, plan], replications=2, seed=5, resolution=300)


@pytest.fixture(scope="module")
def figure(comparison):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph, a missing font: both fail here
        fig = figure_kpis_vs_targets(comparison.results)
        fig.canvas.draw()  # glyphs are looked up when the text is drawn
    yield fig
    plt.close(fig)


def _panels(fig):
    return [ax for ax in fig.axes if ax.axison]


def test_every_target_has_a_plain_name_in_both_languages():
    assert set(PLAIN_NAMES) == set(TARGET_IDS)
    for tid in TARGET_IDS:
        name = plain_name(tid)
        assert name.en and name.measure.startswith("% ")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in name.zh), tid  # Chinese characters
    assert plain_name("all_quantified").en.startswith("Every target")


def test_panels_are_titled_in_plain_words_with_section_and_chinese(figure, comparison):
    titles = [ax.get_title() for ax in _panels(figure)]
    targets = comparison.reference.targets
    modelled = targets[targets["modelled"] & (targets["kpi"] != "")]
    assert len(titles) == len(modelled)
    for title, (_, t) in zip(titles, modelled.iterrows(), strict=True):
        name = plain_name(t["id"])
        assert title == f"{name.en} ({t['section']})\n{name.zh}"
        assert t["id"] not in title  # no variable names


def test_axes_are_labelled_percentages_on_one_scale(figure):
    for ax in _panels(figure):
        assert ax.get_ylabel().startswith("% ")
        low, high = ax.get_ylim()
        assert low <= 0.0 and high >= 1.0  # never cut to the data
        assert ax.yaxis.get_major_formatter()(0.9, 0) == "90%"
    x_ranges = {ax.get_xlim() for ax in _panels(figure)}
    assert len(x_ranges) == 1  # every panel spans the same years, the COD panel included
    start = matplotlib.dates.num2date(x_ranges.pop()[0])
    assert (start.year, start.month) == (2009, 1)


def test_trailing_rates_start_when_their_first_window_is_full(figure, comparison):
    panels = dict(zip([t for t in TARGET_IDS if t in PLAIN_NAMES], _panels(figure),
                      strict=True))
    for tid, ax in panels.items():
        first = min(pd.Timestamp(line.get_xdata()[0])
                    for line in ax.get_lines()[:2])  # the scenarios' mean paths
        if plain_name(tid).trailing_12_months:
            assert (first.year, first.month) == (2009, 12), tid
        else:
            assert (first.year, first.month) == (2009, 1), tid


def test_a_stale_font_cache_still_finds_the_installed_cjk_font(monkeypatch):
    """matplotlib's font list is built once; a font installed after that is added from its
    file. (make installs fonts-noto-cjk; without it this test fails, saying so.)"""
    from matplotlib import font_manager

    stale = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    fonts.cjk_family.cache_clear()
    try:
        family = fonts.cjk_family()
        assert family is not None, f"no CJK font on this machine: {fonts.INSTALL_HINT}"
        assert family == "Noto Sans CJK SC"
        assert fonts.chart_fonts() == ["DejaVu Sans", "Noto Sans CJK SC"]
    finally:
        fonts.cjk_family.cache_clear()


def test_without_a_cjk_font_the_chart_warns_how_to_install_one(monkeypatch):
    monkeypatch.setattr(fonts, "_known_families", lambda: {"DejaVu Sans"})
    monkeypatch.setattr(fonts, "_add_cjk_files", lambda: None)
    fonts.cjk_family.cache_clear()
    try:
        with pytest.warns(fonts.CJKFontMissing, match="fonts-noto-cjk"):
            assert fonts.chart_fonts() == ["DejaVu Sans"]
    finally:
        fonts.cjk_family.cache_clear()


def test_every_ledger_line_has_plain_words_with_its_section():
    # a line added to the ledger without words would show its code name in the briefing
    from simcity_quality.engine.ledger import LINES
    from simcity_quality.interface.briefing_charts import LINE_NAMES

    for line in LINES:
        assert "§" in LINE_NAMES[line], line
