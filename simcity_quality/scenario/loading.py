"""Loading scenario files: TOML, ``extends`` chains, validation, dotted overrides.

Errors name the file that set the offending key, the key, and what was expected
(:mod:`.messages`); every file a scenario came from is remembered for that.
"""

import copy
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ScenarioError
from .catalogue import valid_keys
from .keys import flatten, suggest
from .messages import explain
from .schema import Scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario TOML file, following ``extends`` chains.

    Errors name the file that set the offending key, the key, and what was expected.
    """
    path = Path(path)
    raw, origins = _load_raw(path, chain=())
    return validate(raw, str(path), origins)


def scenario_from_data(data: dict, source: str = "<data>") -> Scenario:
    """Validate plain scenario data (what a TOML file without ``extends`` holds)."""
    return validate(data, source, {})


def _load_raw(path: Path, chain: tuple[Path, ...]) -> tuple[dict, dict[str, str]]:
    """Raw merged dict for ``path`` and, for each dotted key, the file that set it."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ScenarioError(f"{path}: key `extends`: files extend each other in a circle "
                            f"({cycle}).")
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found (looked for {resolved}).")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: this is not valid TOML ({exc}). Check quotes, brackets "
                            "and that every key has `= value`.") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a UTF-8 text file; scenario files are TOML text.") \
            from None
    parent = data.pop("extends", None)
    if parent is not None and not isinstance(parent, str):
        raise ScenarioError(f"{path}: key `extends`: expected a file name (a string), got "
                            f"{parent!r}.")
    base: dict = {}
    origins: dict[str, str] = {}
    if parent:
        parent_path = (path.parent / parent)
        if not parent_path.is_file():
            raise ScenarioError(f"{path}: key `extends`: the file {parent!r} does not exist "
                                f"(looked for {parent_path.resolve()}).")
        base, origins = _load_raw(parent_path, chain + (resolved,))
    merged = deep_merge(base, data)  # this file over its parents
    # this file's keys go last, so the nearer a file is to the one loaded, the later it stands
    own = flatten(data)
    # a key this file sets replaces the parent's, and so does a table under it (an
    # [uncertain] entry given as a table where the parent gave a range, or the reverse)
    prefixes = {k.rsplit(".", i)[0] for k in own for i in range(1, k.count(".") + 1)}
    origins = {k: v for k, v in origins.items()
               if k not in own and k not in prefixes
               and not any(k.startswith(o + ".") for o in own if o.startswith("uncertain."))}
    origins.update(dict.fromkeys(own, str(path)))
    return merged, origins


def validate(raw: dict, source: str, origins: dict[str, str]) -> Scenario:
    """A validated scenario from merged file content (``origins``: dotted key -> the file that
    set it, for error messages); ``[status_quo]`` levers fill what ``[policy]`` leaves unset."""
    file_content = copy.deepcopy(raw)
    raw = copy.deepcopy(raw)
    if "status_quo" in raw and isinstance(raw.get("status_quo"), dict):
        policy = raw.get("policy", {})
        if isinstance(policy, dict):
            raw["policy"] = deep_merge(raw["status_quo"], policy)
    try:
        sc = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(explain(exc, source, origins)) from None
    return sc.with_provenance(source, file_content, origins)


def deep_merge(base: dict, top: dict) -> dict:
    """``top`` over ``base``, table by table (``targets`` and ``uncertain`` merge key by key)."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in (
                "targets", "uncertain"):
            out[key] = deep_merge(out[key], value)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_dotted(raw: dict, dotted: str, value: Any, source: str) -> None:
    """Set a dotted key in a raw scenario dict, creating tables as needed (refuses keys the
    schema does not know). A dict given for a table sets the keys under it, so
    ``{"policy": {"rewards": {"city_provincial_award": 1}}}`` and
    ``{"policy.rewards.city_provincial_award": 1}`` are the same override."""
    if hasattr(value, "item") and callable(value.item):  # numpy scalars from sweeps
        value = value.item()
    parts = dotted.split(".")
    if parts[0] in ("targets", "uncertain"):
        if len(parts) > 1:
            raw.setdefault(parts[0], {})[".".join(parts[1:])] = value
            return
        if isinstance(value, dict):
            raw.setdefault(parts[0], {}).update(value)
            return
    valid = valid_keys()
    if dotted not in valid or dotted in ("targets", "uncertain", "extends"):
        if is_table(dotted):
            if isinstance(value, dict):
                for key, sub in value.items():
                    set_dotted(raw, f"{dotted}.{key}", sub, source)
                return
            example = next(k for k in valid if k.startswith(dotted + "."))
            raise ScenarioError(f"{source}: override key `{dotted}` is a table of parameters, "
                                f"not one parameter; give a key under it (such as `{example}`) "
                                "or a dict of them.")
        raise ScenarioError(f"{source}: override key `{dotted}`: no such parameter"
                            f"{suggest(dotted, valid)}.")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ScenarioError(f"{source}: override key `{dotted}`: `{part}` is not a table.")
    node[parts[-1]] = value


def is_table(dotted: str) -> bool:
    """Whether ``dotted`` names a table of parameters (``policy``, ``policy.rewards``), not a
    parameter."""
    return dotted not in valid_keys() and any(k.startswith(dotted + ".") for k in valid_keys())
