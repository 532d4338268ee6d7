"""The compiled kernels (numba) give exactly the numbers of the numpy code they replace."""

import copy
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality.categories import SECTORS
from simcity_quality.engine import behaviour, kernels
from simcity_quality.engine.model import QualityCityModel
from simcity_quality.engine.rng import derived_rows

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not available")


def _series(sc, seed, firms, compiled, monkeypatch):
    monkeypatch.setattr(kernels, "ENABLED", compiled)
    model = QualityCityModel(sc, seed=seed, firms=firms)
    model.run_model()
    return model


@needs_numba
@pytest.mark.parametrize("name", ["baseline", "the_plan", "enforcement_heavy", "subsidy_heavy",
                                  "calibrated_national_2009"])
@pytest.mark.parametrize("firms, seed", [(150, 0), (1200, 5), (3000, 2010)])
def test_compiled_and_numpy_time_series_are_identical(name, firms, seed, monkeypatch):
    sc = sq.load_scenario(SCEN / f"{name}.toml")
    a = _series(sc, seed, firms, True, monkeypatch)
    b = _series(sc, seed, firms, False, monkeypatch)
    pd.testing.assert_frame_equal(a.datacollector.get_model_vars_dataframe(),
                                  b.datacollector.get_model_vars_dataframe(), check_exact=True)
    pd.testing.assert_frame_equal(a.ledger_frame(), b.ledger_frame(), check_exact=True)
    for part in ("pop", "contractors", "service_firms"):  # the whole end state, slot by slot
        pa, pb = getattr(a, part), getattr(b, part)
        for f in fields(pa):
            np.testing.assert_array_equal(getattr(pa, f.name), getattr(pb, f.name),
                                          err_msg=f"{part}.{f.name}", strict=True)


@needs_numba
@pytest.mark.parametrize("month", [1, 13, 30])
def test_one_month_of_decisions_is_identical(plan, month, monkeypatch):
    """behaviour.choose on the same state and draws: every attribute and output the same."""
    model = QualityCityModel(plan, seed=3, firms=2000)
    for _ in range(month):
        model.step()
    year = model.years[0] + month // 12
    lv = plan.levers_for(year)
    rng = np.random.default_rng(month)
    n = model.pop.n_slots
    u_review = rng.random(n) * 0.5  # more reviewers than usual: more branches taken
    k = int(np.count_nonzero(u_review < plan.behaviour.decision_rate))
    gumbel = rng.gumbel(size=(len(behaviour.OPTIONS), k))
    out = {}
    for compiled in (True, False):
        monkeypatch.setattr(kernels, "ENABLED", compiled)
        pop = copy.deepcopy(model.pop)
        dec = behaviour.choose(pop, lv, plan, year, np.array([0.3, 0.2, 0.1]), u_review,
                               123456789, gumbel, len(SECTORS))
        out[compiled] = pop, dec
    (pa, da), (pb, db) = out[True], out[False]
    np.testing.assert_array_equal(da.choice, db.choice, strict=True)
    np.testing.assert_array_equal(da.subsidised, db.subsidised, strict=True)
    assert da.fee_waiver_yuan == db.fee_waiver_yuan
    assert np.count_nonzero(da.choice >= 1) > 0
    for f in fields(pa):
        np.testing.assert_array_equal(getattr(pa, f.name), getattr(pb, f.name),
                                      err_msg=f.name, strict=True)


@needs_numba
def test_derived_uniforms_in_the_kernel_are_the_hash_of_rng():
    slots = np.array([0, 1, 2, 17, 999, 2**31 + 5], dtype=np.int64)
    for key in (1, 12345678901, (1 << 64) - 1):
        rows = derived_rows(key, 3, slots)
        for r in range(3):
            base = np.uint64((key + (r + 1) * 0xD1B54A32D192ED03) & ((1 << 64) - 1))
            got = [kernels._derived(base, s) for s in slots]
            assert got == list(rows[r])


def test_numba_can_be_switched_off_by_the_environment():
    code = "from simcity_quality.engine import kernels; print(kernels.ENABLED)"
    env = {**os.environ, "SIMCITY_QUALITY_NUMBA": "0"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert res.stdout.strip() == "False"
