"""Per-slot uniforms derived from a month's stream key (``derived_uniforms``).

A mechanism that needs a random number only for some slots (the firms sampled, inspected or
reviewing this month) draws one 64-bit key per month from its own stream and derives each
slot's uniform by hashing (key, row, slot) with SplitMix64's finaliser. The uniform a slot gets
does not depend on which other slots are drawn, so it is the same whatever the levers select
(common random numbers stay exact), and only the selected slots cost anything.
"""

import numba
import numpy as np

from .jit import jit

_MASK = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_ROW = 0xD1B54A32D192ED03  # separates the rows (several uniforms per slot) of one key
_ROW64 = np.uint64(_ROW)
_S30, _S27, _S31, _S11, _ONE = (np.uint64(s) for s in (30, 27, 31, 11, 1))
_UNIT = 1.0 / (1 << 53)  # 53 bits to [0, 1)


def month_key(rng: np.random.Generator) -> int:
    """One 64-bit key drawn from ``rng`` (one draw whatever the key is used for): an odd
    number, ``2 * rng.integers(0, 2**63) + 1``. That integer is the top 63 bits of one raw
    64-bit draw (numpy's bounded draw takes ``raw >> 1`` for this range, rejecting none), so
    the key is that draw with its lowest bit set, read without ``integers``' overhead."""
    return int(rng.bit_generator.random_raw()) | 1


def derived_uniforms(key: int, row: int, slots: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1), one per entry of ``slots``, a pure function of (key, row, slot)."""
    return derived_rows(key, row + 1, slots)[row]


def derived_rows(key: int, rows: int, slots: np.ndarray) -> np.ndarray:
    """``derived_uniforms`` for rows 0 .. rows-1 at once: shape (rows, len(slots))."""
    slots = np.asarray(slots)
    if numba.config.DISABLE_JIT:  # run as Python (the mutation check): the same hash by arrays
        return splitmix_arrays(row_bases(key, rows), slots)
    out = np.empty((rows, slots.size))
    _splitmix_rows(np.uint64(key), slots, out)
    return out


def splitmix_arrays(base: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """What :func:`_splitmix_rows` computes, in numpy array operations."""
    z = (slots.astype(np.uint64) + _ONE) * _GOLDEN
    z = z[None, :] + base[:, None]
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    z >>= _S11
    return z * _UNIT


@jit
def _splitmix_rows(key: np.uint64, slots: np.ndarray, out: np.ndarray) -> None:
    """Row ``r``, entry ``j`` of ``out``: SplitMix64's finaliser of ``(slots[j] + 1) * golden
    + base``, ``base`` being ``key``'s offset for row ``r`` (:func:`row_bases`, worked out
    here: cheaper than an array of them each call), its top 53 bits as a uniform in [0, 1)
    (all arithmetic modulo 2**64)."""
    for r in range(out.shape[0]):
        base = key + np.uint64(r + 1) * _ROW64
        for j in range(slots.shape[0]):
            z = (np.uint64(slots[j]) + _ONE) * _GOLDEN + base
            z ^= z >> _S30
            z *= _M1
            z ^= z >> _S27
            z *= _M2
            z ^= z >> _S31
            out[r, j] = np.float64(z >> _S11) * _UNIT


def row_bases(key: int, rows: int) -> np.ndarray:
    """The per-row offsets of ``key`` that the hash adds (``_splitmix_rows`` works them out
    alike, modulo 2**64)."""
    return np.array([(key + (r + 1) * _ROW) & _MASK for r in range(rows)], dtype=np.uint64)
