"""Compiled (numba) kernels for the engine's hottest loops, with the numpy code as the fallback.

numba is optional: if it cannot be imported, or the environment variable
``SIMCITY_QUALITY_NUMBA`` is ``0``, :data:`ENABLED` is False and the engine runs its numpy code
(the readable version of each rule). A kernel does the same floating-point operations in the
same order as the numpy code it replaces and uses the same random numbers, so the outputs are
bit for bit the same (``tests/engine/test_kernels.py`` runs both and compares every monthly number):

- elementwise expressions are written with the same association (``a * b * c`` is
  ``(a * b) * c`` in both); scalar-only subexpressions are computed in Python, as numpy does;
- where numpy computes in float32 (``0.3 * margin`` with a float32 ``margin`` stays float32 under
  NEP 50) the kernel does the same with ``np.float32``;
- ``exp`` stays in numpy (its SIMD ``exp`` need not round like the C library's);
- sums stay in numpy (pairwise summation); counts are integers and exact either way;
- derived uniforms are the same SplitMix64 hash as :func:`~simcity_quality.engine.rng.derived_rows`.

Compiled code is cached on disk (``cache=True``: ``__pycache__`` beside this file, or numba's
user-wide cache directory if that is read-only); a process that finds no cache compiles on
first use (see docs/performance.md for the cost).
"""

import os

import numpy as np

# the SplitMix64 constants of rng.derived_rows (numba freezes module globals at compile)
from .rng import _GOLDEN, _M1, _M2, _ONE, _S11, _S27, _S30, _S31

try:  # pragma: no cover - depends on the environment
    if os.environ.get("SIMCITY_QUALITY_NUMBA", "1").strip() == "0":
        raise ImportError("disabled by SIMCITY_QUALITY_NUMBA=0")
    import numba
except ImportError:  # pragma: no cover
    numba = None

#: Whether the compiled kernels are used (tests switch it to compare both paths).
ENABLED = numba is not None
AVAILABLE = ENABLED


def _jit(fn):
    """``numba.njit(cache=True)``; without a usable cache directory, without caching."""
    if numba is None:
        return fn
    try:
        return numba.njit(cache=True)(fn)
    except RuntimeError:  # pragma: no cover - no writable cache location
        return numba.njit(fn)


_SCALE53 = 1.0 / (1 << 53)
_NINF = -np.inf


@_jit
def _derived(base, slot):
    """One derived uniform: :func:`rng.derived_rows` for row base ``base`` and one slot."""
    z = (np.uint64(slot) + _ONE) * _GOLDEN + base
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    z >>= _S11
    return np.float64(z) * _SCALE53


@_jit
def _max(a, b):
    """``np.maximum`` of two scalars (the first if equal or NaN)."""
    return a if (a >= b or a != a) else b


@_jit
def _min(a, b):
    """``np.minimum`` of two scalars (the first if equal or NaN)."""
    return a if (a <= b or a != a) else b


@_jit
def choose_prepare(u_review, rate, alive, sector, n_sectors, intl_std, iso9001, output, margin,
                   cash, belief, moral_cost, cg, H, fine_cap, rev_p, crim, det,
                   logit_scale, w):
    """Decisions, part 1: the reviewing slots (``u_review < rate``, alive), their column in
    the month's Gumbel draws, the imitation pulls and the exponent of the counterfeit logit
    (``behaviour.counterfeit_probability`` up to ``exp``, which numpy takes)."""
    n = u_review.shape[0]
    alive_n = np.zeros(n_sectors, np.int64)
    have_intl = np.zeros(n_sectors, np.int64)
    have_iso = np.zeros(n_sectors, np.int64)
    k = 0
    for i in range(n):
        if alive[i]:
            s = sector[i]
            alive_n[s] += 1
            if intl_std[i]:
                have_intl[s] += 1
            if iso9001[i]:
                have_iso[s] += 1
        if u_review[i] < rate and alive[i]:
            k += 1
    share_intl = np.zeros(n_sectors)
    share_iso = np.zeros(n_sectors)
    for s in range(n_sectors):
        if alive_n[s] > 0:
            share_intl[s] = np.float64(have_intl[s]) / np.float64(alive_n[s])
            share_iso[s] = np.float64(have_iso[s]) / np.float64(alive_n[s])
    slots = np.empty(k, np.int64)
    cols = np.empty(k, np.int64)
    imit_intl = np.empty(k)
    imit_iso = np.empty(k)
    z = np.empty(k)
    j = 0
    c = 0
    zero32 = np.float32(0.0)
    for i in range(n):
        if not u_review[i] < rate:
            continue
        if alive[i]:
            slots[j] = i
            cols[j] = c
            imit_intl[j] = w * share_intl[sector[i]]
            imit_iso[j] = w * share_iso[sector[i]]
            out = _max(output[i], 1e-9)
            gain = cg * out
            firm_value = np.float64(_max(margin[i], zero32)) * output[i] * H
            fine = _min(fine_cap, _max(cash[i], 0.0))
            loss = fine + rev_p * firm_value + crim
            penalty = belief[i] * det * loss
            u_cf = (gain - penalty) / (logit_scale * out)
            z[j] = -(u_cf - np.float64(moral_cost[i]))
            j += 1
        c += 1
    return slots, cols, imit_intl, imit_iso, z


@_jit
def choose_apply(slots, cols, gumbel, imit_intl, imit_iso, e, bases,
                 output, margin, cash, credit, capability, intl_std, iso9001, ccc_required, ccc,
                 tier, applying, discharge_ratio, counterfeit, belief, key_project,
                 subsidy_monthly, subsidy_months_left, debt_monthly, debt_months_left, sector,
                 choice, subsidised, counts,
                 f, cod_coef, min_cap, iso_req, title_value_cst, brand, app_cost, win_belief,
                 refuse_over_limit):
    """Decisions, part 2: ``behaviour._choose`` firm by firm (``e`` is ``exp(z)`` from part 1).

    ``f`` holds the scalars (see :func:`~simcity_quality.engine.behaviour.choose`); ``counts`` gets
    the number of certifications and of applications per tier (1..3)."""
    (logit_scale, H, loan_share_lv, upgrade_cost, isr_lir, loan_years, qp_ug, intl_cost,
     intl_premium, intl_min_cap, cost_cert, fine_yuan, iso_premium, abatement_fraction,
     fee_per_t, dfine_H, abatement_cost, pref_gps, psg, pp_term, upgrade_gain, lir_term,
     subsidy_add, misuse, iso_sub_share, iso_gain) = (
        f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13],
        f[14], f[15], f[16], f[17], f[18], f[19], f[20], f[21], f[22], f[23], f[24], f[25])
    months = np.int64(loan_years) * 12
    psg32 = np.float32(psg)
    pp32 = np.float32(pp_term)
    pref32 = np.float32(pref_gps)
    zero32 = np.float32(0.0)
    util = np.empty(6)
    for j in range(slots.shape[0]):
        i = slots[j]
        out = _max(output[i], 1e-9)
        unit = logit_scale * out
        # 1. counterfeit or not
        p_cf = 1.0 / (1.0 + e[j])
        counterfeit[i] = _derived(bases[0], i) < p_cf

        # 2. investments
        loan_share = loan_share_lv if credit[i] else 0.0
        own = 1.0 - loan_share
        util[0] = 0.0
        cost_up = upgrade_cost * out
        subsidy = 0.0
        if key_project[i] and credit[i]:
            subsidy = isr_lir * (cost_up * loan_share) * 1e6 / 1e6 * loan_years
        if cash[i] >= own * cost_up:
            util[1] = (qp_ug * out * H - cost_up + subsidy) / unit
        else:
            util[1] = _NINF

        cost_intl = intl_cost * out
        if (not intl_std[i]) and capability[i] >= intl_min_cap and cash[i] >= own * cost_intl:
            util[2] = (intl_premium * out * H - cost_intl) / unit + imit_intl[j]
        else:
            util[2] = _NINF

        needs_ccc = ccc_required[i] and not ccc[i]
        if (needs_ccc or not iso9001[i]) and cash[i] >= cost_cert:
            if needs_ccc:
                benefit = belief[i] * fine_yuan / 1e6 * H
                util[3] = (benefit - cost_cert) / unit + 0.0
            else:
                benefit = iso_premium * out * H
                util[3] = (benefit - cost_cert) / unit + imit_iso[j]
        else:
            util[3] = _NINF

        m32 = _max(margin[i], zero32)
        cod_t = output[i] * cod_coef[sector[i]]
        cut = discharge_ratio[i] * abatement_fraction * cod_t
        fee_saved = fee_per_t * cut / 1e6 * H
        closure_risk = 0.0
        if refuse_over_limit and not credit[i]:
            closure_risk = np.float64(m32) * out * H
        fine_avoided = belief[i] * (dfine_H + closure_risk)
        cost_ab = abatement_cost * out
        if cash[i] >= own * cost_ab:
            fa = fine_avoided if discharge_ratio[i] > 1.0 else 0.0
            util[4] = (fee_saved + fa - cost_ab) / unit
        else:
            util[4] = _NINF

        nxt = min(tier[i] + 1, 3)
        apply_value = _NINF
        title_net = 0.0
        min_next = np.inf
        iso_ok = True
        for t in range(1, 4):
            this = nxt == t and tier[i] < 3
            if this:
                min_next = min_cap[t]
                if iso_req[t] >= 0.5:
                    iso_ok = iso9001[i]
            at = this and applying[i] == 0 and capability[i] >= min_next and iso_ok
            inner = psg32 * m32 + pp32
            procurement = np.float64(pref32 * inner) * out * H
            value = win_belief[t - 1] * (title_value_cst[t] + brand[t] * out * H + procurement)
            cost = app_cost[t]
            if at and cash[i] >= cost:
                apply_value = (value - cost) / unit
            if this:
                title_net = value - cost
        util[5] = apply_value
        if iso_ok and capability[i] < min_next and min_next <= capability[i] + upgrade_gain:
            util[1] += _max(title_net, 0.0) / unit
        else:
            util[1] += 0.0

        # the logit choice: the first maximum of utility plus Gumbel noise (np.argmax)
        c = cols[j]
        best = 0
        best_v = util[0] + gumbel[0, c]
        for o in range(1, 6):
            v = util[o] + gumbel[o, c]
            if best_v != best_v:
                break
            if v > best_v or v != v:
                best = o
                best_v = v
        choice[i] = best

        # effects and payments (``pay`` in behaviour._choose)
        if best == 1 or best == 2 or best == 4:
            cost = cost_up if best == 1 else (cost_intl if best == 2 else cost_ab)
            debt = cost * loan_share
            cash[i] -= cost - debt
            owed = debt_monthly[i] * debt_months_left[i] + debt * lir_term
            if owed > 0:
                debt_monthly[i] = owed / months
                debt_months_left[i] = months
        if best == 1:
            sub = key_project[i] and credit[i]
            subsidised[i] = sub
            gain = upgrade_gain
            if sub:
                extra = subsidy / cost_up if cost_up > 0 else 0.0
                gain = _max(0.0, upgrade_gain * (1 + subsidy_add * extra))
                if _derived(bases[1], i) < misuse:
                    gain = 0.0
            capability[i] += gain
            if sub:
                yearly = isr_lir * (cost_up * loan_share) * 1e6
                subsidy_monthly[i] = yearly / 12.0
                subsidy_months_left[i] = months
                debt_monthly[i] -= yearly / 12.0 / 1e6
                key_project[i] = False
        elif best == 2:
            intl_std[i] = True
        elif best == 3:
            cash[i] -= cost_cert
            counts[0] += 1
            if needs_ccc:
                ccc[i] = True
            else:
                iso9001[i] = True
                if _derived(bases[2], i) < iso_sub_share:
                    capability[i] += iso_gain
        elif best == 4:
            discharge_ratio[i] *= 1.0 - abatement_fraction
        elif best == 5:
            applying[i] = nxt
            counts[nxt] += 1
            cash[i] -= app_cost[nxt]


@_jit
def produce(alive, sector, tier, margin, intl_std, iso9001, counterfeit, output, capability,
            discharge_ratio, cash, debt_monthly, debt_months_left, g_out, drift, g_dr, brand,
            intl_premium, iso_premium, cg, extra_sales, premium, cod_coef, fee_per_t):
    """``QualityCityModel._produce`` except the procurement total (a numpy sum)."""
    es32 = np.float32(extra_sales)
    pr32 = np.float32(premium)
    zero32 = np.float32(0.0)
    for i in range(output.shape[0]):
        output[i] *= g_out
        capability[i] += drift
        discharge_ratio[i] *= g_dr
        share = (np.float64(margin[i]) + brand[tier[i]] + intl_premium * np.float64(intl_std[i])
                 + iso_premium * np.float64(iso9001[i]) + cg * np.float64(counterfeit[i]))
        if alive[i] and tier[i] > 0:
            share = share + np.float64(es32 * _max(margin[i], zero32) + pr32)
        else:
            share = share + 0.0
        cod = output[i] * cod_coef[sector[i]] * discharge_ratio[i]
        fee = fee_per_t * cod / 1e6
        if alive[i]:
            cash[i] += (share * output[i] - fee) / 12.0 - debt_monthly[i]
        else:
            cash[i] += 0.0
        if debt_months_left[i] > 0:
            debt_months_left[i] -= 1
        if debt_months_left[i] == 0:
            debt_monthly[i] = 0.0


@_jit
def update_beliefs(sector, watched, alive, inspected, belief, flat, peer_learning,
                   belief_decay):
    """``government.update_beliefs``: returns the new anchors (flat), updates ``belief``."""
    n_groups = flat.shape[0]
    alive_n = np.zeros(n_groups)
    seen = np.zeros(n_groups)
    for i in range(sector.shape[0]):
        g = np.int64(sector[i]) * 2 + np.int64(watched[i])
        if alive[i]:
            alive_n[g] += 1.0
        if inspected[i]:
            seen[g] += 1.0
    new = flat.copy()
    for g in range(n_groups):
        if alive_n[g] > 0:
            rate = seen[g] * 12.0 / alive_n[g]
            new[g] = flat[g] + peer_learning * (_min(rate, 1.0) - flat[g])
    for i in range(sector.shape[0]):
        if not inspected[i]:
            g = np.int64(sector[i]) * 2 + np.int64(watched[i])
            belief[i] += belief_decay * (new[g] - belief[i])
    return new


@_jit
def national_weight(problem_until, month, sector, prone, problem_weight, sector_weight):
    """``government.national_sampling_weight``."""
    n = problem_until.shape[0]
    w = np.empty(n)
    for i in range(n):
        a = problem_weight if problem_until[i] >= month else 1.0
        w[i] = a * (sector_weight if prone[sector[i]] else 1.0)
    return w


@_jit
def national_sampled(alive, u, w, per_month, mean_w):
    """Who the national spot checks sample: ``alive & (u < min(1, rate * w / mean_w))``."""
    n = alive.shape[0]
    sampled = np.zeros(n, np.bool_)
    for i in range(n):
        if alive[i]:
            sampled[i] = u[i] < _min(1.0, per_month * w[i] / mean_w)
    return sampled


@_jit
def class_counts(sampled, passed, sector, size, out_sector, out_size):
    """The month's sampled and passed counts by sector and by size (``np.bincount``)."""
    out_sector[:] = 0.0
    out_size[:] = 0.0
    for i in range(sampled.shape[0]):
        if sampled[i]:
            out_sector[0, sector[i]] += 1.0
            out_size[0, size[i]] += 1.0
        if passed[i]:
            out_sector[1, sector[i]] += 1.0
            out_size[1, size[i]] += 1.0


@_jit
def exits(alive, size, credit, output, cash, revoked, closed, u_exit, u_entry, hazard,
          entry_rate, counterfeit, watched, key_project, applying, subsidy_months_left,
          subsidy_monthly, debt_monthly, debt_months_left, counts):
    """The exit half of ``QualityCityModel._exit_and_entry``; returns the free slots that draw
    an entrant. ``counts``: revoked, closed over the limit, bankrupt, exits (added to)."""
    n = alive.shape[0]
    for i in range(n):
        if not alive[i]:
            continue
        floor = (-0.5 if credit[i] else -0.1) * output[i]
        bankrupt = cash[i] < floor
        if revoked[i]:
            counts[0] += 1
        if closed[i] and not revoked[i]:
            counts[1] += 1
        if bankrupt and not revoked[i] and not closed[i]:
            counts[2] += 1
        if revoked[i] or closed[i] or bankrupt or u_exit[i] < hazard[size[i]]:
            counts[3] += 1
            alive[i] = False
            counterfeit[i] = False
            watched[i] = False
            key_project[i] = False
            applying[i] = 0
            subsidy_months_left[i] = 0
            subsidy_monthly[i] = 0.0
            debt_monthly[i] = 0.0
            debt_months_left[i] = 0
    k = 0
    for i in range(n):
        if not alive[i] and u_entry[i] < entry_rate:
            k += 1
    free = np.empty(k, np.int64)
    k = 0
    for i in range(n):
        if not alive[i] and u_entry[i] < entry_rate:
            free[k] = i
            k += 1
    return free


@_jit
def effort_prepare(u, review_rate, capability, shift):
    """Contractors' effort, part 1: the reviewing contractors and ``capability + shift``
    (efforts x reviewing), whose ``exp`` numpy takes (``construction.choose_effort``)."""
    n = u.shape[0]
    k = 0
    for i in range(n):
        if u[i] < review_rate:
            k += 1
    idx = np.empty(k, np.int64)
    k = 0
    for i in range(n):
        if u[i] < review_rate:
            idx[k] = i
            k += 1
    z = np.empty((shift.shape[0], k))
    for e in range(shift.shape[0]):
        for j in range(k):
            z[e, j] = capability[idx[j]] + shift[e]
    return idx, z


@_jit
def effort_apply(idx, ez, gumbel, size, watched, effort, value_by_size, base_share, tiered,
                 watched_share, correction, detection, rating, effort_cost, rework, penalty,
                 record, rewarded, reward, logit_scale):
    """Contractors' effort, part 2: payoffs and the logit choice (``ez``: ``exp(z)``)."""
    n_e = ez.shape[0]
    for j in range(idx.shape[0]):
        i = idx[j]
        value = value_by_size[size[i]] * 1e6
        share = base_share
        if tiered and watched[i]:
            share = _max(watched_share, base_share)
        s_corr = share * correction
        best = 0
        best_v = 0.0
        for e in range(n_e):
            q = 1.0 / (1.0 + ez[e, j])
            remaining = q * (1.0 - s_corr)
            fail = remaining * detection
            excellent = (1.0 - remaining) * rating[e]
            cost = (effort_cost[e] + q * s_corr * rework
                    + fail * (rework + penalty / value + record)
                    - excellent * rewarded * reward / value)
            v = -cost / logit_scale + gumbel[e, i]
            if e == 0:
                best_v = v
            elif best_v == best_v and (v > best_v or v != v):
                best = e
                best_v = v
        effort[i] = best
