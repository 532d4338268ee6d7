"""Dotted keys: flattening nested tables and suggesting the nearest valid name."""

import difflib
from typing import Any


def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists stay values)."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def suggest(name: str, candidates) -> str:
    """`` (did you mean `x`?)`` for the candidate nearest ``name``, or ``""``."""
    candidates = list(candidates)
    prefixes = {c.rsplit(".", i)[0] for c in candidates for i in range(1, c.count(".") + 1)}
    depth = name.count(".")
    # never the name itself: a table name given where a parameter is expected is not a typo
    same_depth = [c for c in set(candidates) | prefixes if c.count(".") == depth and c != name]
    close = difflib.get_close_matches(name, same_depth, n=1, cutoff=0.6)
    if not close:
        leaf = name.rsplit(".", 1)[-1]
        by_leaf = [c for c in candidates if c.rsplit(".", 1)[-1] == leaf and c != name]
        close = by_leaf[:1] or difflib.get_close_matches(
            leaf, [c.rsplit(".", 1)[-1] for c in candidates], n=1, cutoff=0.6)
        if close and "." not in close[0]:
            close = [c for c in candidates if c.endswith("." + close[0])][:1]
    return f" (did you mean `{close[0]}`?)" if close else ""
