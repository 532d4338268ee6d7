"""The engine's monthly time series: one preallocated array, filled once a month.

Replaces Mesa's ``DataCollector`` (one reporter call per column per month) with a months x
columns float array. :meth:`MonthlyRecord.get_model_vars_dataframe` gives the same frame the
DataCollector did: the same column names in the same order, a RangeIndex over the months
recorded, and integer columns (counts) as int64.
"""

import numpy as np
import pandas as pd


class MonthlyRecord:
    """Monthly values of ``columns`` for up to ``months`` months."""

    def __init__(self, columns, months: int):
        self.columns = tuple(columns)
        self._missing = (np.nan,) * len(self.columns)  # the value of a column not given
        self.values = np.full((months, len(self.columns)), np.nan)
        self.n = 0
        self._integer: np.ndarray | None = None  # which columns hold counts (set on first row)

    def collect(self, current: dict) -> None:
        """Record one month: ``current`` maps column names to values (missing ones are NaN)."""
        row = list(map(current.get, self.columns, self._missing))
        if self._integer is None:
            self._integer = np.array([isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                      for v in row])
        self.values[self.n] = row
        self.n += 1

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The months recorded so far, one row per month (as Mesa's DataCollector gives them)."""
        frame = pd.DataFrame(self.values[:self.n], columns=list(self.columns))
        if self._integer is not None:
            ints = [name for name, is_int in zip(self.columns, self._integer, strict=True)
                    if is_int]
            frame[ints] = frame[ints].astype(np.int64)
        return frame
