"""Every behavioural number is a scenario key: the rule modules of the engine and of the Mesa
reference hold no numeric literal beyond a short list of definitions (issue 14).

Allowed: 0 and 1 (and their float forms), 11 and 12 (months of a year, the trailing twelve
months), small integers up to 5 (positions in short arrays: rows of random draws, tally
columns), the unit definitions 1e6 (yuan per million), 365 (days a year) and 1000 (kg a
tonne), the numerical guards 1e-9 and 1e-6 (keeping divisions and
logarithms of empty firms finite) and, in the reference, 32 (bits per word when it turns a
SeedSequence into Mesa's integer seed). Anything else, a rate, a weight, a share, a floor,
belongs in the schema with its unit, bounds and source.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "simcity_quality"
RULE_MODULES = [*(ROOT / "engine" / f for f in (
    "behaviour.py", "government.py", "finance.py", "demography.py", "construction.py",
    "services.py", "population.py", "model.py", "parameters.py", "measurement.py",
    "shared.py", "wastewater.py")), ROOT / "reference" / "model.py"]
ALLOWED = {0, 1, 2, 3, 4, 5, 11, 12, 1e6, 365, 1000, 1e-9, 1e-6}
REFERENCE_ONLY = {32}


def literals(path: Path) -> list[tuple[int, float]]:
    """Numeric literals in a module that are not in the allowed list (line, value)."""
    allowed = ALLOWED | (REFERENCE_ONLY if path.parent.name == "reference" else set())
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Constant) and isinstance(node.value, int | float)
                and not isinstance(node.value, bool) and node.value not in allowed):
            found.append((node.lineno, node.value))
    return found


def test_rule_modules_hold_no_behavioural_numbers():
    bad = [f"{p.relative_to(ROOT.parent)}:{line}: {value!r}" for p in RULE_MODULES
           for line, value in literals(p)]
    assert not bad, "numbers in rules that belong in the scenario schema:\n" + "\n".join(bad)


def test_the_scan_finds_a_literal(tmp_path):
    rule = tmp_path / "rule.py"
    rule.write_text("def floor(credit, output):\n    return (-0.5 if credit else -0.1) * output\n")
    assert literals(rule) == [(2, 0.5), (2, 0.1)]
