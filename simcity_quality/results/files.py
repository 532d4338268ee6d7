"""Writing result tables: Parquet and CSV side by side, each written whole or not at all."""

from collections.abc import Callable
from pathlib import Path

import pandas as pd


def atomic(writer: Callable, path: Path, **kwargs) -> None:
    """Call ``writer(tmp, **kwargs)`` on a temporary name, then rename it to ``path``: a crash
    never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    writer(tmp, **kwargs)
    tmp.replace(path)


def write_table(df: pd.DataFrame, folder: Path, name: str) -> None:
    """``folder/name.parquet`` and ``folder/name.csv`` (the folder is created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic(df.to_parquet, folder / f"{name}.parquet", index=False)
    atomic(df.to_csv, folder / f"{name}.csv", index=False)
