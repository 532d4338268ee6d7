"""Progress bars for the long operations, in one place (tqdm: a text bar in a terminal, a
widget in a notebook).

Every operation that can take more than a few seconds (``sq.run``, ``sq.compare``,
``sq.sweep``, the searches, Morris and Sobol, ``sq.calibrate``, the validation checks) takes
``progress``:

- ``True`` (the default): a bar of model runs on standard error;
- ``False``: silent (notebooks checked by nbval pass this, so their outputs stay the same);
- a bar already open (what :func:`progress_bar` yields): the operation adds its runs to it, so
  an operation built from others (``compare`` runs ``run`` once per scenario) shows one bar.
"""

from collections.abc import Iterator
from contextlib import contextmanager


class _Silent:
    """A bar that shows nothing (``progress=False``), with the methods the callers use."""

    n = 0
    total = None
    disable = True

    def update(self, n: int = 1) -> None:
        """Count ``n`` runs, showing nothing."""
        self.n += n

    def set_postfix_str(self, text: str) -> None:
        """Ignore a status text."""


def _is_bar(progress) -> bool:
    return not isinstance(progress, bool) and hasattr(progress, "update")


@contextmanager
def progress_bar(progress=True, total: int | None = None, desc: str | None = None,
                 unit: str = "run") -> Iterator:
    """A progress bar for one operation: a new tqdm bar, a silent one, or the enclosing bar.

    ``total`` is what the operation expects to do (``None``: unknown, the bar counts). A search
    that stops before its cap ends at 100 % of what it did, not short of a total it never
    needed. An enclosing bar is passed through untouched and left open.
    """
    if _is_bar(progress):
        yield progress
        return
    if not progress:
        yield _Silent()
        return
    from tqdm.auto import tqdm  # here: the command line starts without it

    bar = tqdm(total=total, desc=desc, unit=unit, smoothing=0.1, dynamic_ncols=True)
    try:
        yield bar
        if bar.total is not None and bar.n < bar.total:  # finished early: not a failure
            bar.total = bar.n
            bar.refresh()
    finally:
        bar.close()

