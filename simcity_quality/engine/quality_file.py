"""Each firm's quality file: its dated results, kept in the engine state (docs/ODD.md §7.16).

The plan's enterprise quality files (§3.3) and the titles' conditions (no failed spot check at
provincial level or above in three years, §3.1) need each firm's history, not only its present
state. For every kind of event the file holds one 64-bit word per firm: bit ``k`` is set when
the event happened ``k`` months ago (bit 0: this month). At the start of every month each word
is shifted up by one, so the file keeps the last :data:`MEMORY_MONTHS` months (more than the
36 the three-year rules need) in 8 bytes per firm and event, and older events fall off.

The events, recorded where the rules make them happen:

- ``national_checked`` / ``national_failed``: a national supervision spot check (§2.2.1d) of
  the firm, and its failure (``government.national_spot_check``);
- ``inspected`` / ``inspection_failed``: a city inspection and its failure (§3.3,
  ``government.city_inspection``);
- ``counterfeit_found``: counterfeit or shoddy goods found by a city inspection (§4.4);
- ``sanctioned``: a fine, a criminal referral or the licence revoked after a city inspection;
- ``title_won``: a title won in the December award round (§3.1, §4.2);
- ``certified``: an ISO 9001 certificate or a missing CCC obtained (§3.3).

A weighted agent's file is its members' common file (they are identical firms, §7.13); a member
that an event picks out is split off first, so a failure or a title is always one firm's. The
passing national checks of members left in a weighted agent are the one thing not recorded.
"""

import operator

import numpy as np

from ..categories import FILE_EVENTS as EVENTS
from ..categories import FILE_FIELDS as FIELDS  # the Population arrays, uint64 each
from ..categories import FILE_MONTHS as MEMORY_MONTHS
from .jit import jit

THREE_YEARS = 36  # months: the titles' record rule (§3.1)


def new_month(pop) -> None:
    """Age every firm's file by a month (the oldest month falls off)."""
    _age(*_FILES(pop))


# reads the files' words of every kind at once (one call a month)
_FILES = operator.attrgetter(*FIELDS)


@jit
def _age(*files) -> None:
    """Shifts each of ``files`` (uint64 words per slot) up by one bit, in place."""
    for bits in files:  # (one kind of array: a homogeneous tuple)
        for i in range(bits.shape[0]):
            bits[i] <<= np.uint64(1)


def record(pop, event: str, slots) -> None:
    """Mark ``event`` this month in the files of ``slots`` (indices or a bool mask)."""
    getattr(pop, f"file_{event}")[slots] |= np.uint64(1)


def within_mask(months: int) -> np.uint64:
    """The file's bits of the last ``months`` months (this one included)."""
    if not 0 < months <= MEMORY_MONTHS:
        raise ValueError(f"the file keeps 1 to {MEMORY_MONTHS} months, not {months}")
    return np.uint64(2**64 - 1) >> np.uint64(MEMORY_MONTHS - months)  # the lowest `months` bits


def within(bits: np.ndarray, months: int) -> np.ndarray:
    """Whether the event is in the file in the last ``months`` months (this one included)."""
    return (np.asarray(bits, dtype=np.uint64) & within_mask(months)) != 0


def events(pop, slot: int, month: int) -> list[tuple[int, str]]:
    """The events in the file of ``slot``, as (month index, event) pairs from the oldest,
    where ``month`` is the index of the current month (0 = the base year's January)."""
    out = []
    for event, name in zip(EVENTS, FIELDS, strict=True):
        bits = int(getattr(pop, name)[slot])
        out += [(month - k, event) for k in range(MEMORY_MONTHS)
                if bits >> k & 1 and month - k >= 0]
    return sorted(out)
