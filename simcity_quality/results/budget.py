"""The budget: the one definition of cost and the one aggregation every caller uses.

A run's ledger (:mod:`~simcity_quality.engine.ledger`) books yuan by year, payer and line with
one sign convention: **spending positive, revenue negative** (fines and penalties collected).
From it, for each payer (``province``, ``city``) and for ``all`` (both added):

- ``gross``: the spending lines only, what the payer pays out;
- ``revenue``: the revenue lines (:data:`~simcity_quality.engine.ledger.REVENUE_LINES`),
  negative;
- ``net`` = gross + revenue, the sum of every line. Its line name is ``total`` (:data:`NET`),
  as in every table and store written so far.

:func:`line_totals` sums the ledger over whatever ``by`` leaves out (the years, when ``by`` is
``("replication",)``) and adds these bases as extra lines, so the components add up to the
totals by construction (PolicyEngine's budget impact works the same way). :func:`wide` turns
the long table into the per-run columns ``"payer:line"`` that sweeps and comparisons use
(``city:total``, ``all:total``, ...); :func:`column` names one of them; :func:`cost` gives one
payer's cost on one basis per replication.
"""

from collections.abc import Mapping, Sequence

import pandas as pd

from ..engine.ledger import PAYERS, REVENUE_LINES

ALL = "all"  # both payers added
NET = "total"  # net spending: the sum of every line (spending +, revenue -)
GROSS = "gross"  # spending lines only
REVENUE = "revenue"  # revenue lines only (negative)
BASES = {"net": NET, "gross": GROSS, "revenue": REVENUE}  # cost basis -> line name
COST_PAYERS = (*PAYERS, ALL)


def column(payer: str = ALL, line: str = NET) -> str:
    """The per-run column of one payer's line or total, e.g. ``column("city")`` is
    ``"city:total"`` (net), ``column("all", "gross")`` is ``"all:gross"``."""
    return f"{payer}:{line}"


def line_totals(budget: pd.DataFrame, by: Sequence[str] = ("replication",),
                group: Mapping[str, str] | None = None,
                bases: Sequence[str] = (NET,)) -> pd.DataFrame:
    """Yuan per ``by``, payer and line, summed over the rows ``by`` leaves out.

    Args:
        budget: the long ledger table (columns ``by``, ``payer``, ``line``, ``yuan``), as in
            ``Results.budget``.
        by: the columns kept, for example ``("replication",)`` for the whole horizon or
            ``("replication", "year")`` year by year.
        group: optional line -> label mapping; lines with the same label are added (lines not
            in the mapping keep their name). The bases are computed from the original lines.
        bases: which of :data:`NET`, :data:`GROSS`, :data:`REVENUE` to add as extra lines, for
            each payer and for payer :data:`ALL` (``()``: the lines only).

    Returns a long table with columns ``*by, payer, line, yuan``: the (grouped) lines first,
    sorted by ``by``, payer and line, then each basis.
    """
    by = list(by)
    b = budget[[*by, "payer", "line", "yuan"]]
    labelled = b if group is None else b.assign(line=b["line"].map(lambda x: group.get(x, x)))
    frames = [labelled.groupby([*by, "payer", "line"], sort=True)["yuan"].sum().reset_index()]
    revenue = b["line"].isin(REVENUE_LINES)
    for basis in bases:
        if basis == NET:
            yuan = b["yuan"]
        elif basis in (GROSS, REVENUE):
            yuan = b["yuan"].where(revenue if basis == REVENUE else ~revenue, 0.0)
        else:
            raise ValueError(f"unknown cost basis line {basis!r}; expected one of "
                             f"{sorted(BASES.values())}")
        sel = b.assign(yuan=yuan)
        per_payer = sel.groupby([*by, "payer"], sort=True)["yuan"].sum().reset_index()
        everyone = sel.groupby(by, sort=True)["yuan"].sum().reset_index()
        everyone["payer"] = ALL
        frames += [per_payer.assign(line=basis), everyone.assign(line=basis)]
    return pd.concat(frames, ignore_index=True)[[*by, "payer", "line", "yuan"]]


def wide(totals: pd.DataFrame, by: Sequence[str] = ("replication",)) -> pd.DataFrame:
    """The long table of :func:`line_totals` as one column per ``"payer:line"`` (index ``by``).

    Column order: the (grouped) lines by payer and line, then each payer's bases, then those
    of :data:`ALL`.
    """
    by = list(by)
    t = totals.assign(_col=totals["payer"] + ":" + totals["line"])
    out = t.pivot(index=by if len(by) > 1 else by[0], columns="_col", values="yuan")
    basis_lines = (NET, GROSS, REVENUE)
    lines = sorted({(p, ln) for p, ln in zip(totals["payer"], totals["line"], strict=True)
                    if p != ALL and ln not in basis_lines})
    bases = [ln for ln in basis_lines if ln in set(totals["line"])]
    payers = sorted({p for p in totals["payer"] if p != ALL})
    order = ([column(p, ln) for p, ln in lines] + [column(p, x) for x in bases for p in payers]
             + [column(ALL, x) for x in bases])
    out = out[[c for c in order if c in out.columns]]
    out.columns.name = None
    return out


def cost(budget: pd.DataFrame, payer: str = ALL, basis: str = "net",
         by: Sequence[str] = ("replication",)) -> pd.Series:
    """One payer's cost per ``by`` (yuan): ``basis`` ``"net"`` (spending less revenue),
    ``"gross"`` (spending only) or ``"revenue"`` (negative); ``payer`` ``"city"``,
    ``"province"`` or ``"all"``."""
    if payer not in COST_PAYERS:
        raise ValueError(f"unknown payer {payer!r}; expected one of {list(COST_PAYERS)}")
    if basis not in BASES:
        raise ValueError(f"unknown cost basis {basis!r}; expected one of {list(BASES)}")
    t = line_totals(budget, by, bases=(BASES[basis],))
    t = t[(t["payer"] == payer) & (t["line"] == BASES[basis])]
    return t.set_index(list(by))["yuan"]
