"""The house in layers: imports flow one way, nothing patches the package at run time, the
command line starts without the heavy libraries, and the complexity exceptions only shrink."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "simcity_quality"

# lower layers first; a module may import from its own layer (same folder) or lower ones
LAYERS = {
    "categories": 0, "errors": 0, "targets": 0,
    "scenario": 1,
    "engine": 2, "reference": 2,
    "results": 3,
    "experiments": 4,
    "analysis": 5,
    "calibration": 6, "validation": 6,
    "interface": 7,
}
# what the Mesa reference may take from the engine: definitions, never behavioural rules
REFERENCE_MAY_USE = {"engine.kpis", "engine.ledger", "engine.columns", "engine.shared"}
# the functions over the complexity ceilings when the ceilings came in (2026-12-01)
COMPLEXITY_EXCEPTIONS = {
    "simcity_quality/calibration/estimation.py": {"PLR0915"},
    "simcity_quality/calibration/observed.py": {"C901"},
    "simcity_quality/engine/behaviour.py": {"PLR0915"},
    "simcity_quality/engine/kernels.py": {"C901", "PLR0915"},
    "simcity_quality/reference/model.py": {"C901", "PLR0915"},
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield path, parts


def _imported(path: Path, parts: list[str]) -> list[list[str]]:
    """Package-internal modules imported by one file, as dotted parts under simcity_quality."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    here = parts if is_package else parts[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "simcity_quality":
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:  # `from a import b`: b may be a module of a
                sub = [*target, alias.name]
                out.append(sub if node.module is None or _is_package_module(sub) else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "simcity_quality":
                    out.append(alias.name.split(".")[1:])
    return out


def _layer(parts: list[str]) -> str:
    return parts[0] if parts else ""


def test_every_module_belongs_to_a_layer():
    for path, parts in _modules():
        if len(parts) <= 1 and (not parts or parts[0] in ("__main__",)):
            continue  # the package's own __init__ (the public API) and __main__
        assert _layer(parts) in LAYERS, f"{path}: not in a layer of tests/test_architecture.py"


def test_imports_flow_one_way():
    bad = []
    for path, parts in _modules():
        if not parts or parts == ["__main__"]:
            continue
        mine = _layer(parts)
        for target in _imported(path, parts):
            theirs = _layer(target)
            if theirs == mine or not theirs or theirs == "__version__":
                continue
            if theirs not in LAYERS:
                bad.append(f"{path.relative_to(ROOT)} imports {'.'.join(target)} from the "
                           "package's public API (import from its layer instead)")
            elif LAYERS[theirs] > LAYERS[mine]:
                bad.append(f"{path.relative_to(ROOT)} imports {'.'.join(target)} (layer "
                           f"{theirs} is above {mine})")
            elif LAYERS[theirs] == LAYERS[mine]:
                dotted = ".".join(target[:2])
                if not (mine == "reference" and dotted in REFERENCE_MAY_USE):
                    bad.append(f"{path.relative_to(ROOT)} imports {'.'.join(target)} "
                               f"(a sibling layer)")
    assert not bad, "\n".join(bad)


def test_the_import_checker_sees_a_violation(tmp_path):
    # the checker itself must catch an upward import (or the test above proves nothing)
    fake = tmp_path / "model.py"
    fake.write_text("from ..interface.cli import main\nfrom . import kpis\n")
    assert _imported(fake, ["engine", "model"]) == [["interface", "cli"], ["engine", "kpis"]]


def _is_package_module(parts: list[str]) -> bool:
    return ((PACKAGE.joinpath(*parts).with_suffix(".py")).is_file()
            or PACKAGE.joinpath(*parts).is_dir())


def _module_aliases(tree: ast.AST) -> set[str]:
    """Names bound to modules by imports in a file: ``import x``, ``from . import x``, and
    ``from simcity_quality.a import b`` where ``a/b`` is a module of the package."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is None:
            names.update(a.asname or a.name for a in node.names)
        elif (isinstance(node, ast.ImportFrom) and node.module
              and node.module.split(".")[0] == "simcity_quality"):
            base = node.module.split(".")[1:]
            names.update(a.asname or a.name for a in node.names
                         if _is_package_module([*base, a.name]))
    return names


def _patches(source: str) -> list[str]:
    """Run-time patching in a file: object.__setattr__, setattr on a module, assignment to a
    module's attribute."""
    tree = ast.parse(source)
    modules = _module_aliases(tree)
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr == "__setattr__"
                and isinstance(node.value, ast.Name) and node.value.id == "object"):
            found.append(f"line {node.lineno}: object.__setattr__")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "setattr" and node.args
                and isinstance(node.args[0], ast.Name) and node.args[0].id in modules):
            found.append(f"line {node.lineno}: setattr on module {node.args[0].id}")
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                        and t.value.id in modules):
                    found.append(f"line {node.lineno}: assigns {t.value.id}.{t.attr}")
    return found


def test_nothing_in_the_package_patches_at_run_time():
    bad = [f"{path.relative_to(ROOT)} {hit}" for path, _ in _modules()
           for hit in _patches(path.read_text(encoding="utf-8"))]
    assert not bad, "\n".join(bad)


def test_the_patch_checker_sees_a_patch():
    src = ("from simcity_quality.engine import model as model_module\nimport numpy\n"
           "model_module.choose = None\nsetattr(numpy, 'x', 1)\nobject.__setattr__(sc, 'a', 1)\n")
    assert len(_patches(src)) == 3


@pytest.mark.parametrize("args", [["--help"], ["targets"]])
def test_the_command_line_starts_without_heavy_libraries(args):
    code = ("import contextlib, io, sys\n"
            "from simcity_quality.interface.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        main({args!r})\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'numba', 'pandas', 'mesa', 'scipy', 'matplotlib'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == "[]", f"simcity-quality {' '.join(args)} imported {out}"


def test_complexity_exceptions_only_shrink():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lint = config["tool"]["ruff"]["lint"]
    assert lint["mccabe"]["max-complexity"] <= 15
    assert lint["pylint"]["max-statements"] <= 60
    assert {"C901", "PLR0915"} <= set(lint["select"])
    for path, codes in lint.get("per-file-ignores", {}).items():
        allowed = COMPLEXITY_EXCEPTIONS.get(path, set())
        extra = set(codes) & {"C901", "PLR0915"} - allowed
        assert not extra, (f"pyproject.toml exempts {path} from {sorted(extra)}: the exception "
                           "list may only shrink; split the function instead")
