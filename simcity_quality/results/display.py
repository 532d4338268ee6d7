"""How results read: money in million yuan naming its payer and basis, probabilities with their
intervals, lever values in their units, and the small HTML tables of ``_repr_html_``.

The result objects of the searches (``minimum_level``, ``optimise_mix``, ``cheapest_mix``) and
of ``sq.run`` / ``sq.compare`` print through these, so every number a user reads is formatted
the same way in a terminal, a notebook and the command line.
"""

import html
import math

from ..scenario.catalogue import unit

BASIS_WORDS = {"gross": "gross", "net": "net of fines", "revenue": "revenue"}


def percent(share: float) -> str:
    """``0.95`` -> ``"95 %"`` (whole percentages, as the reports write them)."""
    return f"{share * 100:.0f} %"


def million(yuan: float) -> str:
    """``12_345_678`` -> ``"12.35"`` (million yuan, two decimals; ``"n/a"`` for NaN)."""
    if yuan is None or not math.isfinite(yuan):
        return "n/a"
    return f"{yuan / 1e6:,.2f}"


def money(yuan: float, payer: str, basis: str, low: float | None = None,
          high: float | None = None) -> str:
    """``"12.35 M yuan (city, gross; 95 % 12.10 to 12.60)"``: the amount, who pays, on what
    basis (gross spending, or net of the fines collected), and its interval when given."""
    what = f"{payer}, {BASIS_WORDS.get(basis, basis)}"
    if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
        what += f"; 95 % {million(low)} to {million(high)}"
    return f"{million(yuan)} M yuan ({what})"


def probability(p: float, low: float, high: float, level: str = "") -> str:
    """``"0.85 (0.81-0.89)"``, or with ``level`` ``"0.85 (90 % interval 0.81-0.89)"``."""
    if p is None or not math.isfinite(p):
        return "n/a"
    label = f"{level} interval " if level else ""
    return f"{p:.2f} ({label}{low:.2f}-{high:.2f})"


def lever_value(key: str, value) -> str:
    """A lever's value in its unit: ``"50,000 yuan per title"``, ``"0.50 share of interest"``,
    ``"750 inspections/year"``."""
    u = unit(key)
    v = float(value)
    if any(w in u for w in ("share", "probability", "rate")):
        text = f"{v:.3f}"  # a share reads as one, 1.000 not 1
    elif abs(v) >= 100 or v.is_integer():
        text = f"{v:,.0f}"  # amounts and counts: whole numbers suffice
    elif abs(v) < 0.01:
        text = f"{v:.2g}"
    else:
        text = f"{v:.3f}"  # shares and rates
    return f"{text} {u}".strip()


def mix_text(mix: dict, indent: str = "  ") -> list[str]:
    """One line per lever: ``"  policy.rewards.city_provincial_award = 50,000 yuan per title"``."""
    return [f"{indent}{k} = {lever_value(k, v)}" for k, v in mix.items()]


def text_block(title: str, rows: list[tuple[str, str]], notes: list[str] = ()) -> str:
    """A titled two-column plain-text block (labels aligned) with notes below: ``__repr__``
    of results; :func:`html_block` is the same for notebooks."""
    width = max(len(k) for k, _ in rows)
    return "\n".join([title, *[f"  {k:<{width}}  {v}" for k, v in rows],
                      *[f"  - {n}" for n in notes]])


def html_block(title: str, rows: list[tuple[str, str]], notes: list[str] = ()) -> str:
    """A titled two-column HTML table (label, value) with notes below: ``_repr_html_``."""
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                   f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows)
    extra = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (f"<div><strong>{html.escape(title)}</strong><table>{body}</table>"
            + (f"<ul>{extra}</ul>" if extra else "") + "</div>")


def html_table(title: str, header: list[str], rows: list[list[str]],
               notes: list[str] = ()) -> str:
    """A titled HTML table with a header row and notes below (``_repr_html_`` of results
    with more than two columns)."""
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>"
                                    for c in row) + "</tr>" for row in rows)
    extra = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (f"<div><strong>{html.escape(title)}</strong><table><tr>{head}</tr>{body}</table>"
            + (f"<ul>{extra}</ul>" if extra else "") + "</div>")
