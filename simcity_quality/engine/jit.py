"""Compiling the engine's per-firm rules with numba.

``jit`` is ``numba.njit(cache=True)``: compiled code is cached on disk (``__pycache__`` beside
each module, or numba's user-wide cache directory if that is read-only), so a process that
finds no cache compiles on first use (a few seconds, docs/performance.md). Setting numba's own
``NUMBA_DISABLE_JIT=1`` runs the same functions as plain Python (the mutation check does, to
skip compiling each mutant). :func:`bincount_weights` is numpy's weighted ``bincount``
compiled, for the sums by sector and size class the engine makes every month.
"""

import numba
import numpy as np


def jit(fn=None, *, inline: bool = False):
    """``numba.njit(cache=True)``; without a usable cache directory, without caching.

    ``@jit(inline=True)`` inlines a small helper into the rules that call it (numba's
    ``inline="always"``). A call that is not inlined passes the firm's arrays by value, and
    increments and decrements the reference count of every one of them, which costs far more
    than the helper's arithmetic; inlined, the same operations in the same order give the
    same numbers. Inlined, a helper taking the firm's record (``FirmArrays``) still holds a
    reference to each of its arrays for as long as it reads the record, which numba cancels
    only if all those reads come before the helper's first branch: such helpers read the
    firm's state (or the arrays they write) at the top. The same holds for a kernel's own
    record argument read inside a branch of its loop (``f.cash[i]``): kernels take the
    arrays they use into local names before the loop."""
    if fn is None:
        return lambda f: jit(f, inline=inline)
    options = {"inline": "always"} if inline else {}
    try:
        return numba.njit(cache=True, **options)(fn)
    except RuntimeError:  # pragma: no cover - no writable cache location
        return numba.njit(**options)(fn)


def bincount_weights(codes: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """``np.bincount(codes, weights=weights, minlength=n)`` for codes below ``n``, compiled:
    the same additions in the same order (slot order), without numpy's checks and casts. Zero
    weights are skipped: adding one to a sum begun at 0.0 leaves it as it is, and most of a
    month's tallies (firms sampled, inspected) are zero for most slots."""
    if numba.config.DISABLE_JIT:  # as Python (the mutation check): numpy's own
        return np.bincount(codes, weights=weights, minlength=n)
    out = np.zeros(n)
    _add_by_code(codes, weights, out)
    return out


@jit
def _add_by_code(codes: np.ndarray, weights: np.ndarray, out: np.ndarray) -> None:
    for i in range(codes.shape[0]):
        if weights[i] != 0:
            out[codes[i]] += weights[i]


@jit(inline=True)
def maximum(a: float, b: float) -> float:
    """``np.maximum`` of two numbers, as numpy gives it: a NaN in either is the result, and of
    two equal numbers (0.0 and -0.0) the second."""
    return a if (a > b or a != a) else b


@jit(inline=True)
def minimum(a: float, b: float) -> float:
    """``np.minimum`` of two numbers, as numpy gives it (:func:`maximum`'s conventions)."""
    return a if (a < b or a != a) else b


@jit(inline=True)
def bit_count(bits: np.uint64) -> int:
    """The set bits of a 64-bit word (``np.bitwise_count``), one at a time."""
    n = 0
    while bits:
        bits &= bits - np.uint64(1)
        n += 1
    return n
