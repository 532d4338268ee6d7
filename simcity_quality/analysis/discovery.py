"""Scenario discovery: which combinations of uncertain parameters make the plan miss a target.

PRIM (Friedman and Fisher 1999), a small implementation: starting from the box that holds every
case, peel off the ``alpha`` share of cases at one edge of one parameter, choosing the peel that
raises the box's density of cases of interest most, until the box holds fewer than
``min_support`` of the cases. Each step of the peeling trajectory records:

- coverage: the share of all cases of interest that fall inside the box;
- density: the share of cases inside the box that are of interest;
- support: the share of all cases inside the box.

A CART tree (scikit-learn) gives a second view as readable rules.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SimcityQualityError


@dataclass
class PrimResult:
    """A PRIM peeling trajectory and the box chosen from it."""

    trajectory: pd.DataFrame  # step, coverage, density, support, n_restricted
    boxes: list[dict[str, tuple[float, float]]]  # the box at each step
    chosen: int  # index into boxes

    @property
    def box(self) -> dict[str, tuple[float, float]]:
        """The chosen box, with only the parameters it restricts."""
        return self.restricted(self.chosen)

    def restricted(self, step: int) -> dict[str, tuple[float, float]]:
        """The box at ``step``, restricted parameters only."""
        full = self.boxes[0]
        return {k: v for k, v in self.boxes[step].items() if v != full[k]}


def prim(x: pd.DataFrame, y, alpha: float = 0.05, min_support: float = 0.05,
         min_density: float | None = None) -> PrimResult:
    """PRIM peeling of the numeric table ``x`` for the boolean cases of interest ``y``.

    The chosen box is the last (densest) one whose coverage is at least half the cases of
    interest, or the first reaching ``min_density`` if it is given.
    """
    y = np.asarray(y, dtype=bool)
    if len(x) != len(y) or len(x) == 0:
        raise SimcityQualityError("prim needs one outcome per row of x, and some rows")
    if not y.any():
        raise SimcityQualityError("prim: no case of interest (every outcome is False)")
    values = x.to_numpy(dtype=float)
    names = list(x.columns)
    inside = np.ones(len(y), dtype=bool)
    box = {k: (float(values[:, i].min()), float(values[:, i].max()))
           for i, k in enumerate(names)}
    total_interest = y.sum()
    boxes, rows = [dict(box)], []

    def record(step):
        n_in = inside.sum()
        rows.append((step, y[inside].sum() / total_interest, y[inside].mean(),
                     n_in / len(y), sum(box[k] != boxes[0][k] for k in names)))

    record(0)
    step = 0
    while inside.sum() > min_support * len(y):
        best = None
        for i, k in enumerate(names):
            col = values[inside, i]
            for side in ("low", "high"):
                v = values[:, i]
                if side == "low":  # at a tie with the minimum, peel the tied cases too
                    q = np.quantile(col, alpha)
                    keep = v > q if q == col.min() else v >= q
                else:
                    q = np.quantile(col, 1 - alpha)
                    keep = v < q if q == col.max() else v <= q
                new = inside & keep
                if new.sum() == inside.sum() or new.sum() < min_support * len(y) or not new.any():
                    continue
                density = y[new].mean()
                if best is None or density > best[0]:
                    best = (density, i, k, side, q, new)
        if best is None or best[0] <= y[inside].mean():
            break
        _, i, k, side, q, new = best
        lo, hi = box[k]
        box[k] = (float(q), hi) if side == "low" else (lo, float(q))
        inside = new
        step += 1
        boxes.append(dict(box))
        record(step)
    traj = pd.DataFrame(rows, columns=["step", "coverage", "density", "support",
                                       "n_restricted"])
    if min_density is not None and (traj.density >= min_density).any():
        chosen = int(traj.index[traj.density >= min_density][0])
    else:
        ok = traj.index[traj.coverage >= 0.5]
        chosen = int(ok[-1]) if len(ok) else 0
    return PrimResult(traj, boxes, chosen)


def cart_rules(x: pd.DataFrame, y, max_depth: int = 3, min_samples_leaf: int = 5) -> str:
    """A classification tree (CART, scikit-learn) of ``y`` on ``x``, as text rules."""
    from sklearn.tree import DecisionTreeClassifier, export_text

    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                  random_state=0)
    tree.fit(x.to_numpy(dtype=float), np.asarray(y, dtype=bool))
    return export_text(tree, feature_names=list(x.columns), show_weights=True)


def missed_cases(results, target: str) -> tuple[pd.DataFrame, np.ndarray]:
    """From stored sweep results: (design values per run, whether the run missed ``target``)."""
    from ..targets import target_list

    overrides = results.manifest.get("scenario", {}).get("targets", {})
    t = {t.id: t for t in target_list(overrides)}.get(target)
    if t is None:
        raise SimcityQualityError(f"unknown target {target!r}")
    table = results.with_design()
    missed = ~np.array([t.met(v) for v in table[t.kpi]], dtype=bool)
    return table[list(results.design.columns)], missed
