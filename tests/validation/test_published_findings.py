"""The model against published findings it was not fitted to (issue 8).

Each test names the finding, the address read, the quantity compared and the tolerance; the
tolerances were fixed from the evidence before the model was run, and live with the check
definitions in ``simcity_quality/validation.py`` (``FINDINGS``) so the full-size script
``benchmarks/validation.py`` uses the same ones. A test passes when the model's whole 95 %
interval lies in the band. A finding the model fails is kept as a strict xfail with the
measured value: a known failing validation is a result.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from simcity_quality import validation as v
from simcity_quality.errors import SimcityQualityError

pytestmark = pytest.mark.slow  # each check runs the model at CI size


def _explain(check):
    return (f"{check.finding.key}: model {check.value:.4f} (95 % interval {check.ci_low:.4f} to "
            f"{check.ci_high:.4f}), band {check.finding.low} to {check.finding.high}: "
            f"{check.verdict}; {check.details}")


def test_general_deterrence_reaches_never_inspected_firms(scenarios, size):
    """Finding: fines and inspections deter plants that are not themselves sanctioned
    (Shimshack and Ward 2008, https://research.monash.edu/en/publications/enforcement-and-over-
    compliance; EPA benchmark, https://www.hitpages.com/doc/4509308712648704/17/: about 6 % lower
    discharges the year after a fine on another plant).
    Quantity: paired relative change in the 2010-2012 counterfeiting share among live firms the
    city never inspected, when city inspections rise 50 %.
    Tolerance: negative, the whole 95 % interval below 0 (the evidence gives a sign only)."""
    check = v.general_deterrence(scenarios[0], **size)
    assert check.passed, _explain(check)


def test_certainty_deters_more_than_severity(scenarios, size):
    """Finding: raising the certainty of punishment deters far more than raising its severity
    (Wright 2010, https://www.reentry.net/library/item.352748-Deterrence_in_Criminal_Justice_
    Evaluating_Certainty_versus_Severity_of_Puni; von Hirsch et al., https://www.ojp.gov/ncjrs/
    virtual-library/abstracts/criminal-deterrence-and-sentence-severity-analysis-recent-research).
    Quantity: relative cut in the 2010-2012 counterfeiting share from 50 % more city inspections
    minus the cut from a 50 % higher fine, paired.
    Tolerance: positive, the whole 95 % interval above 0."""
    check = v.certainty_over_severity(scenarios[0], **size)
    assert check.passed, _explain(check)
    assert check.details["cut from +50 % inspections"] > 0, _explain(check)


@pytest.mark.xfail(strict=True, reason=(
    "The model's firms apply little more for China Famous Brand titles when the plan's title "
    "support starts: the paired rise at full size (docs/validation.md) lies wholly below the "
    "evidence band of a quarter to twice the observed +58.9 % (2006-2007). At CI size the "
    "interval is wider and may read undecided; either way the check is not met."))
def test_title_support_raises_brand_applications(scenarios, size):
    """Finding: China Famous Brand applications rose from 924 products in 2006 to 1,468 in 2007,
    +58.9 %, as local governments adopted support policies for brand titles (AQSIQ, 2007 China
    Top Brand Strategy Development Report, http://anjitraders.com/html/report/16112727-1.htm).
    Quantity: paired relative rise in China Famous Brand applications in 2010, the first year
    of the plan's §4.2 rewards and fee waivers and §3.1 procurement preference.
    Tolerance: between a quarter and twice the observed rise (0.147 to 1.178)."""
    check = v.brand_support_applications(*scenarios, **size)
    assert check.passed, _explain(check)


def test_iso_certification_follows_a_logistic_curve(iso_checks):
    """Finding: ISO 9000 certification spreads along a logistic curve, fitted with R^2 above 0.99
    (an international diffusion study of ISO 9000 and ISO 14000, read at
    http://gateway.bigforumpro.com/t855-explanatory-model-of-the-diffusion and
    https://th4.ilovetranslation.com/xKkhndDL8PD=d).
    Quantity: R^2 of a logistic fitted to the yearly ISO 9001 share of live firms, status quo,
    2009-2030.
    Tolerance: at least 0.99."""
    shape, _ = iso_checks
    assert shape.passed, _explain(shape)


@pytest.mark.xfail(strict=True, reason=(
    "Since investments are decided one by one (issue 16) and certification costs the firm the "
    "certification body's fee (issue 18), ISO 9001 spreads faster than ISO 9000 did worldwide: "
    "the ISO premium over the horizon exceeds the fee for the median small firm, so most "
    "reviewing firms certify. At full size (docs/validation.md, with the trace) the interval "
    "lies just inside the band's upper edge, above the world's observed range; at CI size it "
    "straddles the edge, so the check is not met here."))
def test_iso_certification_spreads_at_the_observed_speed(iso_checks):
    """Finding: world ISO 9000 certification went from 68.7 % of its logistic saturation to a
    forecast 95 % in 4-6 years, a logistic rate of 0.36-0.54 a year (the same study,
    https://th4.ilovetranslation.com/xKkhndDL8PD=d).
    Quantity: the growth rate r of the same fit.
    Tolerance: within a factor of 2 of that range, 0.18 to 1.08 a year."""
    _, speed = iso_checks
    assert speed.passed, _explain(speed)


# ---- the machinery the checks rely on ----------------------------------------------------


def _check(value, low, high, band=(0.0, 1.0)):
    f = v.Finding("x", "t", "claim", ("src",), "q", "tol", *band)
    return v.Check(f, value, low, high, 10, 100)


def test_verdict_needs_the_whole_interval_inside_the_band():
    assert _check(0.5, 0.4, 0.6).verdict == "consistent"
    assert _check(0.9, 0.8, 1.1).verdict == "undecided"
    assert _check(1.5, 1.2, 1.8).verdict == "inconsistent"
    assert _check(-0.5, -0.6, -0.4).verdict == "inconsistent"
    assert not _check(0.9, 0.8, 1.1).passed


def test_iso_fit_recovers_a_logistic_and_rejects_other_shapes():
    t = np.arange(22)
    r2, rate, ceiling, mid = v.iso_fit(0.9 / (1 + np.exp(-0.45 * (t - 8))))
    assert r2 > 0.9999
    assert rate == pytest.approx(0.45, rel=1e-3)
    assert ceiling == pytest.approx(0.9, rel=1e-3)
    assert mid == pytest.approx(8, abs=1e-2)
    # a rise and fall is not a diffusion curve
    r2_bump, *_ = v.iso_fit(np.sin(np.linspace(0, np.pi, 22)) * 0.5)
    assert r2_bump < 0.9


def test_bad_sizes_are_refused_with_a_clear_message(scenarios):
    with pytest.raises(SimcityQualityError, match="replications must be a whole number >= 2"):
        v.general_deterrence(scenarios[0], resolution=200, replications=1)
    with pytest.raises(SimcityQualityError, match="resolution must be a whole number >= 1"):
        v.iso_diffusion(scenarios[0], resolution=0, replications=3)


def test_no_applicants_is_refused_not_divided_by_zero(scenarios):
    """When no firm can qualify there are no China Famous Brand applications to compare: a clear
    error, not an infinite or NaN rise."""
    baseline = scenarios[0].override({"awards.min_capability.china_famous_brand": 10.0})
    with pytest.raises(SimcityQualityError, match="no China Famous Brand application"):
        v.brand_support_applications(baseline, scenarios[1], resolution=300, replications=2)


def test_missing_scenario_files_are_named(tmp_path):
    with pytest.raises(SimcityQualityError, match=r"baseline\.toml, which does not exist"):
        v.default_scenarios(tmp_path)


def test_every_finding_cites_an_address_and_a_band():
    for f in v.FINDINGS.values():
        assert f.sources and all(s.startswith("http") for s in f.sources), f.key
        assert f.low < f.high, f.key
        assert f.topic in {"enforcement", "certification", "awards"}, f.key
    assert {f.topic for f in v.FINDINGS.values()} == {"enforcement", "certification", "awards"}


ROOT = Path(__file__).resolve().parents[2]


def test_full_size_script_reads_every_finding():
    """benchmarks/validation.py explains every finding's result for the budget advice."""
    spec = importlib.util.spec_from_file_location("bench_validation",
                                                  ROOT / "benchmarks" / "validation.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert set(bench.MEANING) == set(v.FINDINGS)
    for key, texts in bench.MEANING.items():
        assert "consistent" in texts and len(texts) >= 2, key


def test_validation_doc_covers_every_finding():
    """docs/validation.md (written by benchmarks/validation.py) reports every check."""
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    for f in v.FINDINGS.values():
        assert f"### {f.key} ({f.topic})" in doc, (
            f"docs/validation.md lacks {f.key}: run `python benchmarks/validation.py`")
        assert f.sources[0] in doc, f.key
