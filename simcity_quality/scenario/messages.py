"""Error prose: pydantic's validation errors as one paragraph naming file, key and expectation."""

from pydantic import ValidationError

from .catalogue import describe, unit, valid_keys
from .keys import suggest


def explain(exc: ValidationError, source: str, origins: dict[str, str]) -> str:
    """Turn pydantic's errors into one paragraph naming file, key and expectation."""
    valid = valid_keys()
    errors = exc.errors()
    failed = {".".join(str(p) for p in e["loc"]) for e in errors}
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err["loc"])
        kind = err["type"]
        # a [policy] lever inherited from [status_quo] fails twice: report it where it was set
        if (loc.startswith("policy.") and loc not in origins
                and "status_quo." + loc[len("policy."):] in failed):
            continue
        if kind == "value_error":  # our own cross-field checks name their key first
            msg = err["msg"].removeprefix("Value error, ")
            key = msg.split(":", 1)[0].split(" ", 1)[0]
            if key not in origins and key not in valid and not _origin_prefix(key, origins):
                key, msg = loc, f"key `{loc}`: {msg}"
            where = origins.get(key) or _origin_prefix(key, origins) or source
            parts.append(f"{where}: {msg}")
            continue
        where = origins.get(loc) or _origin_prefix(loc, origins) or source
        if kind == "extra_forbidden":
            parts.append(f"{where}: unknown key `{loc}`{suggest(loc, valid)}")
        elif kind == "missing":
            parts.append(f"{where}: key `{loc}` is missing ({describe(loc)}); set it or "
                         "`extends` a file that does (baseline.toml)")
        else:
            got = err.get("input")
            msg = err["msg"]
            loc_unit = unit(loc)
            if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
                msg = f"expected a value {_bound_text(err)} ({describe(loc)})"
                if kind == "greater_than_equal" and err["ctx"].get("ge") == 0:
                    msg = f"expected a non-negative amount ({describe(loc)})"
                if ("share" in loc_unit or loc_unit == "probability") and kind.startswith("less"):
                    msg += "; probabilities and shares are between 0 and 1, not percentages"
            elif kind == "finite_number":
                msg = f"expected a finite number, not inf or nan ({describe(loc)})"
            else:
                msg = f"{msg} ({describe(loc)})"
            parts.append(f"{where}: key `{loc}`: {msg}; got {got!r}")
    return "; ".join(parts) + "."


def _origin_prefix(loc: str, origins: dict[str, str]) -> str | None:
    """The file that set keys under ``loc``; the file being loaded wins over its parents
    (origins list parents' keys first)."""
    files = [file for key, file in origins.items()
             if key.startswith(loc + ".") or loc.startswith(key + ".")]
    if not files:
        return None
    return files[-1]


def _bound_text(err: dict) -> str:
    ctx = err.get("ctx", {})
    for key, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if key in ctx:
            return f"{word} {ctx[key]}"
    return "in range"
