"""docs/findings.md holds the lever audit as benchmarks/lever_audit.py writes it (with the
command), and an explanation of every lever after it; the script replaces only its section."""

import importlib.util
from pathlib import Path

from simcity_quality.scenario.plan_levers import PLAN_LEVERS

ROOT = Path(__file__).resolve().parents[1]
FINDINGS = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")


def _script():
    spec = importlib.util.spec_from_file_location("lever_audit_script",
                                                  ROOT / "benchmarks" / "lever_audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_findings_hold_the_generated_audit_at_full_size_and_its_explanations():
    script = _script()
    assert FINDINGS.count(script.BEGIN) == 1 and FINDINGS.count(script.END) == 1
    section = FINDINGS.split(script.BEGIN, 1)[1].split(script.END, 1)[0]
    assert "Made with `python benchmarks/lever_audit.py` on " in section  # the defaults
    assert "is `simcity-quality levers scenarios/the_plan.toml`" in section
    assert "20 paired replications, seed 0, all 5,000 firms of the city simulated" in section
    for lever in PLAN_LEVERS:
        assert f"| {lever.id} | plan |" in section, lever.id
    by_hand = FINDINGS.split(script.END, 1)[1]
    for lever in PLAN_LEVERS:  # every lever explained, traced to an engine file
        assert f"**{lever.section.split(',')[0]}" in by_hand or lever.id == "inspections"
    assert "**The number of city inspections" in by_hand
    assert by_hand.count("engine/") >= 6


def test_the_script_replaces_only_its_section(tmp_path):
    script = _script()
    doc = tmp_path / "findings.md"
    doc.write_text("# Findings\n\nkept above\n", encoding="utf-8")
    script.write_section(doc, f"{script.BEGIN}\nfirst\n{script.END}")
    assert script.HEADING in doc.read_text(encoding="utf-8")
    doc.write_text(doc.read_text(encoding="utf-8") + "\nkept below\n", encoding="utf-8")
    script.write_section(doc, f"{script.BEGIN}\nsecond\n{script.END}")
    text = doc.read_text(encoding="utf-8")
    assert "second" in text and "first" not in text
    assert "kept above" in text and "kept below" in text and text.count(script.HEADING) == 1
