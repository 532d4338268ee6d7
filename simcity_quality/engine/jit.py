"""Compiling the engine's per-firm rules with numba.

``jit`` is ``numba.njit(cache=True)``: compiled code is cached on disk (``__pycache__`` beside
each module, or numba's user-wide cache directory if that is read-only), so a process that
finds no cache compiles on first use (a few seconds, docs/performance.md). Setting numba's own
``NUMBA_DISABLE_JIT=1`` runs the same functions as plain Python (the mutation check does, to
skip compiling each mutant).
"""

import numba


def jit(fn):
    """``numba.njit(cache=True)``; without a usable cache directory, without caching."""
    try:
        return numba.njit(cache=True)(fn)
    except RuntimeError:  # pragma: no cover - no writable cache location
        return numba.njit(fn)
