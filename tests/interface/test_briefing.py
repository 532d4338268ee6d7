"""The briefing: one self-contained page, what was compared, the limits from the ODD, the
precision it claims, and the refusals (a bad path or a missing ODD before anything runs)."""

import base64
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import simcity_quality as sq  # noqa: E402
from simcity_quality.errors import SimcityQualityError  # noqa: E402
from simcity_quality.interface import briefing as br  # noqa: E402
from simcity_quality.interface.cli import main  # noqa: E402
from simcity_quality.results.statistics import wilson_interval  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"


class _Page(HTMLParser):
    """Collects image sources, links, section ids and the text of tagged elements."""

    def __init__(self):
        super().__init__()
        self.images, self.links, self.sections, self.fields = [], [], [], []
        self._open: list[dict | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        if "href" in a:
            self.links.append(a["href"])
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag in ("img", "meta", "br"):
            return
        tagged = {k[5:]: v for k, v in a.items() if k.startswith("data-")}
        self._open.append({**tagged, "text": ""} if "field" in tagged else None)

    def handle_endtag(self, tag):
        if tag in ("img", "meta", "br") or not self._open:
            return
        item = self._open.pop()
        if item is not None:
            self.fields.append(item)

    def handle_data(self, data):
        for item in self._open:
            if item is not None:
                item["text"] += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@pytest.fixture(scope="module")
def comparison(baseline, plan):
    return sq.compare([baseline, plan], replications=3, seed=11, resolution=300)


@pytest.fixture(scope="module")
def page(comparison, tmp_path_factory):
    path = tmp_path_factory.mktemp("briefing") / "briefing.html"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no missing glyph, no missing CJK font
        written = sq.briefing(comparison, path)
    assert written == path
    return path.read_text(encoding="utf-8")


def test_the_page_is_self_contained(page):
    parsed = _parse(page)
    assert len(parsed.images) == 4  # attainment, effect, cost, paths
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(link.startswith("#") for link in parsed.links)  # nothing fetched from outside
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)


def test_the_page_has_every_part_of_a_briefing(page):
    assert _parse(page).sections == ["summary", "compared", "precision", "targets",
                                     "attainment", "effects", "cost", "paths", "limits",
                                     "reproduce"]
    assert "做好质量兴市工作的方案" in page and "企业出厂产品质量合格率达90%以上" in page


def test_what_was_compared_lists_the_keys_that_differ_with_their_sections(comparison, page):
    keys = br.differing_keys(comparison.reference.scenario, comparison.results[1].scenario)
    row = keys.set_index("key").loc["policy.rewards.city_provincial_award"]
    assert row["source"] == "§4.2" and row["reference"] == 0 and row["scenario"] == 50_000
    assert "policy.start_year" not in set(keys["key"])  # both start in 2010
    assert not any(k.startswith("status_quo.") for k in keys["key"])
    assert f"differs from baseline in {len(keys)} keys" in page
    assert comparison.results[1].scenario.description in page
    same = br.differing_keys(comparison.reference.scenario, comparison.reference.scenario)
    assert same.empty


def test_the_limits_are_the_odds_section_8(page):
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    section = odd.split(br.LIMITS_HEADING, 1)[1].split("\n## ", 1)[0]
    titles = re.findall(r"^- \*\*(.+?)\*\*", section, flags=re.M)
    limits = br.model_limits()
    assert len(limits) == len(titles) >= 5
    for title in titles:
        assert f"<strong>{title}</strong>" in page


def test_model_limits_refuses_an_odd_without_the_section(tmp_path):
    odd = tmp_path / "ODD.md"
    odd.write_text("# ODD\n\n## 7. Submodels\n\n- something\n", encoding="utf-8")
    with pytest.raises(SimcityQualityError, match="What is not modelled"):
        br.model_limits(odd)
    with pytest.raises(SimcityQualityError, match="not found"):
        br.model_limits(tmp_path / "missing.md")


def test_precision_states_replications_seed_and_resolution(comparison, page):
    lo, hi = wilson_interval(1.5, 3)
    assert "3 replications</strong> of each scenario, seed 11" in page
    assert f"from {100 * lo:.0f} to {100 * hi:.0f} %" in page
    assert "The runs simulated 300 of the city's 5,000 industrial enterprises" in page
    assert "Money, counts and targets are for the whole city" in page


def test_a_full_size_run_says_so_and_not_the_resolution_caveat(baseline):
    comp = sq.compare([baseline, baseline.override({}, name="same")], replications=1, seed=1)
    html = br.briefing_html(comp)
    assert "simulated the whole city of the scenario: 5,000" in html
    assert "Resolution." not in html
    assert "differs from baseline in 0 keys" in html
    # a scenario built in Python has no command line to reproduce it
    assert br.reproduce_command(comp) is None and "no command line reproduces it" in html


def test_replications_for_a_half_width():
    n = br.replications_for_half_width(0.05)
    for m, ok in ((n, True), (n - 1, False)):
        lo, hi = wilson_interval(m / 2, m)
        assert bool((hi - lo) / 2 <= 0.05) is ok


def test_on_the_edge_names_exactly_the_flagged_targets(comparison, page):
    att = br.attainment_table(comparison)
    sd_close = np.abs(att["mean"] - att["threshold"]) < att["sd"]
    assert (att["edge"] == sd_close.fillna(False)).all()
    assert page.count("on the edge</span>") == int(att["edge"].sum())


@pytest.mark.parametrize("name", ["briefing.pdf", "briefing"])
def test_a_path_that_is_not_html_is_refused_before_writing(comparison, tmp_path, name):
    with pytest.raises(SimcityQualityError, match=r"ending in \.html"):
        sq.briefing(comparison, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_refused(comparison, tmp_path):
    folder = tmp_path / "x.html"
    folder.mkdir()
    with pytest.raises(SimcityQualityError, match="this is a folder"):
        sq.briefing(comparison, folder)


def test_briefing_needs_a_comparison(comparison, tmp_path):
    with pytest.raises(SimcityQualityError, match="needs a Comparison"):
        sq.briefing(comparison.results[0], tmp_path / "b.html")


def test_cli_compare_writes_the_briefing_after_the_tables(tmp_path, capsys):
    out, page = tmp_path / "res", tmp_path / "brief" / "plan.html"
    assert main(["compare", str(SCEN / "baseline.toml"), str(SCEN / "the_plan.toml"), "-r",
                 "2", "--resolution", "200", "-o", str(out), "--briefing", str(page)]) == 0
    assert f"Briefing written to {page}" in capsys.readouterr().out
    assert (out / "differences.csv").is_file()
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert ("simcity-quality compare " in text and "-r 2 --seed 0 --resolution 200 --briefing"
            in text)
    assert not list(page.parent.glob(".*.tmp"))


def test_cli_refuses_a_bad_briefing_path_before_running(tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["compare", str(SCEN / "baseline.toml"), str(SCEN / "the_plan.toml"), "-r", "1",
                 "--resolution", "200", "-o", str(out), "--briefing", str(tmp_path / "b.txt")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "ending in .html" in err
    assert not out.exists()  # nothing ran


def test_cli_refuses_when_the_odd_is_missing_before_running(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(br, "ODD", tmp_path / "no_ODD.md")
    out = tmp_path / "res"
    code = main(["compare", str(SCEN / "baseline.toml"), "-r", "1", "--resolution", "200",
                 "-o", str(out), "--briefing", str(tmp_path / "b.html")])
    assert code == 2 and "no_ODD.md" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "b.html").exists()


def test_the_briefing_says_what_the_chances_cover(page, baseline, plan, tmp_path):
    assert 'data-kind="noise"' in page
    assert "What the chances cover." in page and "random noise only" in page
    assert "--uncertainty parameters" in page  # what would cover the rest
    comp = sq.compare([baseline, plan], replications=2, seed=11, resolution=200,
                      uncertainty="parameters", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other = sq.briefing(comp, tmp_path / "b.html").read_text(encoding="utf-8")
    assert 'data-kind="parameters"' in other and 'data-kind="noise"' not in other
    assert "drawing them from their priors" in other
    assert "cover what is not known about firms" in other
