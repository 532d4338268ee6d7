"""The model as a whole: seeds, common random numbers, scaling, tracking, basic responses."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simcity_quality as sq
from simcity_quality.engine.model import STREAMS, QualityCityModel
from simcity_quality.experiments.equivalence import small_city

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"


def test_horizon_is_monthly_from_base_year_to_end_of_2012(baseline):
    res = sq.run(baseline, replications=1, seed=1, resolution=200)
    ts = res.timeseries
    assert len(ts) == 12 * (2012 - 2009 + 1)
    assert ts["date"].iloc[0] == pd.Timestamp("2009-01-31")
    assert ts["date"].iloc[-1] == pd.Timestamp("2012-12-31")
    assert list(ts["step"]) == list(range(1, 49))


def test_same_seed_same_numbers_other_seed_other_numbers(plan):
    a = sq.run(plan, replications=2, seed=11, resolution=400)
    b = sq.run(plan, replications=2, seed=11, resolution=400)
    c = sq.run(plan, replications=2, seed=12, resolution=400)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.budget, b.budget)
    assert not a.final.equals(c.final)
    # replications differ from each other too
    assert a.final.iloc[0]["factory_pass_rate"] != a.final.iloc[1]["factory_pass_rate"]


def test_the_same_seed_sequence_object_twice_gives_the_same_run(plan):
    ss = np.random.SeedSequence(2026, spawn_key=(3,))
    runs = []
    for _ in range(2):  # the same object, not a copy
        m = QualityCityModel(plan, seed=ss, resolution=300)
        m.run_model()
        runs.append(m.record.get_model_vars_dataframe())
    pd.testing.assert_frame_equal(*runs, check_exact=True)
    assert ss.n_children_spawned == 0  # read, never spawned from
    # an object already spawned from elsewhere still gives the run its seed stands for
    used = np.random.SeedSequence(2026, spawn_key=(3,))
    used.spawn(5)
    m = QualityCityModel(plan, seed=used, resolution=300)
    m.run_model()
    pd.testing.assert_frame_equal(m.record.get_model_vars_dataframe(), runs[0], check_exact=True)


def test_stream_seeds_are_the_children_spawn_gives():
    from simcity_quality.engine.model import stream_seeds

    ss = np.random.SeedSequence(99, spawn_key=(1, 2))
    fresh = np.random.SeedSequence(99, spawn_key=(1, 2)).spawn(4)
    for a, b in zip(stream_seeds(ss, 4), fresh, strict=True):
        assert (a.generate_state(4) == b.generate_state(4)).all()


def test_replication_seeds_are_spawned_from_the_run_seed():
    seeds = sq.replication_seeds(7, 3)
    assert [s.spawn_key for s in seeds] == [(0,), (1,), (2,)]
    assert all(s.entropy == 7 for s in seeds)


def test_a_single_replication_can_be_rerun_alone(plan):
    res = sq.run(plan, replications=3, seed=5, resolution=300)
    model = QualityCityModel(plan, seed=sq.replication_seeds(5, 3)[2], resolution=300)
    model.run_model()
    alone = model.datacollector.get_model_vars_dataframe().iloc[-1]
    assert alone["factory_pass_rate"] == res.final.iloc[2]["factory_pass_rate"]
    assert alone["spending_total"] == res.final.iloc[2]["spending_total"]


def test_scenarios_share_the_initial_population_under_the_same_seed(baseline, plan):
    a = QualityCityModel(baseline, seed=3, resolution=500)
    b = QualityCityModel(plan, seed=3, resolution=500)
    np.testing.assert_array_equal(a.pop.capability, b.pop.capability)
    np.testing.assert_array_equal(a.pop.counterfeit, b.pop.counterfeit)
    assert len(STREAMS) == len(set(STREAMS))


def test_a_lever_leaves_other_mechanisms_random_numbers_alone(plan):
    """Changing the number of city inspections must not shift the national spot-check draws."""
    few = QualityCityModel(plan, seed=9, resolution=500)
    many = QualityCityModel(plan.override({"policy.inspection.spot_checks_per_year": 3000}),
                            seed=9, resolution=500)
    for _ in range(14):
        few.step()
        many.step()
    assert (few.streams["national"].bit_generator.state
            == many.streams["national"].bit_generator.state)
    assert (few.streams["decisions"].bit_generator.state
            == many.streams["decisions"].bit_generator.state)


def test_paired_differences_have_smaller_variance_than_unpaired(baseline, plan):
    """Common random numbers, in a city of 800 firms simulated in full (at a lower resolution
    the scenarios split different agents off, so fewer draws stay paired)."""
    reps = 20
    baseline, plan = small_city(baseline, 800), small_city(plan, 800)
    base_a = sq.run(baseline, replications=reps, seed=21).final
    plan_a = sq.run(plan, replications=reps, seed=21).final
    base_b = sq.run(baseline, replications=reps, seed=22).final
    # COD under the plan moves in lumps the baseline lacks (closures at missed deadlines,
    # §7.17), which pairing cannot cancel: less of its variance goes
    for kpi, most in (("factory_pass_rate", 0.5), ("intl_standard_share", 0.5),
                      ("cod_reduction", 0.75)):
        paired = (plan_a[kpi] - base_a[kpi]).var()
        unpaired = (plan_a[kpi] - base_b[kpi]).var()
        assert paired < most * unpaired, kpi


def test_count_levers_are_for_the_whole_city_at_any_resolution(plan):
    """The city's inspections are the scenario's number whatever the resolution (each one of
    a single firm, split off its agent where it stood for several)."""
    expected = (plan.status_quo.inspection.spot_checks_per_year * 1
                + plan.policy.inspection.spot_checks_per_year * 3)
    for resolution in (600, plan.city.firms):
        model = QualityCityModel(plan, seed=1, resolution=resolution)
        model.run_model()
        assert model.current["city_inspections"] == pytest.approx(expected, abs=2)
        alive = model.pop.alive
        assert model.current["firms_alive"] == model.pop.weight[alive].sum()


def test_enforcement_reduces_counterfeiting_in_expectation(plan):
    heavy = plan.override({"policy.inspection.spot_checks_per_year": 3000,
                           "policy.inspection.revocation_probability": 1.0})
    light = plan.override({"policy.inspection.spot_checks_per_year": 100})
    a = sq.run(heavy, replications=3, seed=4, resolution=1500).final["counterfeiters_active"]
    b = sq.run(light, replications=3, seed=4, resolution=1500).final["counterfeiters_active"]
    assert (a < b).all()


def test_base_year_is_simulated_under_the_status_quo(baseline, plan):
    """Before policy.start_year both scenarios are the same city, month for month."""
    a = sq.run(baseline, replications=1, seed=8, resolution=600).timeseries
    b = sq.run(plan, replications=1, seed=8, resolution=600).timeseries
    first_year = a["date"].dt.year == 2009
    cols = ["factory_pass_rate", "spot_check_pass_rate", "intl_standard_share",
            "spending_total"]
    pd.testing.assert_frame_equal(a.loc[first_year, cols], b.loc[first_year, cols])
    assert not a.loc[~first_year, cols].equals(b.loc[~first_year, cols])


def test_province_rewards_wait_for_their_start_year(plan):
    late = plan.override({"policy.rewards.province_start_year": 2013})
    res = sq.run(late, replications=2, seed=2, resolution=3000)
    # the province pays no reward before 2013 (it may still receive the §4.4 fines, ODD §7.11)
    assert res.budget.query("payer == 'province' and line.str.startswith('reward')")[
        "yuan"].sum() == 0
    city_rewards = res.budget.query("payer == 'city' and line.str.startswith('reward')")
    assert city_rewards["yuan"].sum() > 0


def test_enterprise_can_be_followed(plan):
    model = QualityCityModel(plan, seed=1, resolution=300, track=[0, 5])
    for _ in range(6):
        model.step()
    state = model.enterprise(5)
    assert state["id"] == 5
    assert state["sector"] in sq.categories.SECTORS
    hist = state["history"]
    if len(hist):  # firm 5 may have exited; then it is not alive and enterprise raises
        assert list(hist["step"]) == list(range(1, len(hist) + 1))
        assert hist["capability"].iloc[-1] == pytest.approx(state["capability"])
    with pytest.raises(KeyError):
        model.enterprise(10**9)
    # untracked firms have state but no history
    other = next(int(i) for i in model.pop.id[model.pop.alive] if i not in (0, 5))
    assert model.enterprise(other)["history"].empty


def test_memory_per_enterprise_is_small(baseline):
    model = QualityCityModel(baseline.override({"city.firms": 10_000}), seed=1)
    assert model.pop.nbytes() / 10_000 < 200  # bytes of state per enterprise


def test_results_write_tables(tmp_path, plan):
    res = sq.run(plan, replications=1, seed=1, resolution=200)
    res.write(tmp_path / "out")
    for name in ("timeseries", "final", "budget", "breakdown", "targets"):
        back = pd.read_parquet(tmp_path / "out" / f"{name}.parquet")
        assert len(back) == len(getattr(res, name))
        assert (tmp_path / "out" / f"{name}.csv").exists()


def test_breakdown_covers_every_sector_and_size(plan):
    res = sq.run(plan, replications=1, seed=1, resolution=400)
    bd = res.breakdown
    industry = bd.query("kpi == 'factory_pass_rate'")
    assert set(industry.query("group_type == 'sector'")["group"]) == set(sq.categories.SECTORS)
    assert set(industry.query("group_type == 'size'")["group"]) == set(sq.categories.SIZES)
    services = bd.query("kpi == 'service_standard_share'")
    assert set(services.query("group_type == 'sector'")["group"]) == set(
        sq.categories.SERVICE_SECTORS)
    assert set(services.query("group_type == 'size'")["group"]) == set(sq.categories.SIZES)
    assert set(bd["population"]) == {"industry", "construction", "services"}
    assert set(bd.query("population == 'construction'")["group_type"]) == {"size"}
    building = bd.query("kpi == 'construction_acceptance_rate' and group_type == 'size'")
    assert set(building["group"]) == set(sq.categories.SIZES)
    firms = bd.query("group_type == 'size' and kpi == 'firms'")["value"].sum()
    assert firms == res.final.iloc[0]["firms_alive"]


def test_run_rejects_bad_arguments(plan):
    with pytest.raises(sq.SimcityQualityError, match="replications"):
        sq.run(plan, replications=0)
    with pytest.raises(sq.SimcityQualityError, match="firms"):
        sq.run(plan, replications=1, resolution=-3)
    with pytest.raises(sq.ScenarioError, match="not found"):
        sq.run("no/such/file.toml")


def test_monthly_record_gives_the_frame_mesa_datacollector_gave(plan):
    """Same columns in the same order, one row per month, counts as int64, a RangeIndex."""
    import mesa

    model = QualityCityModel(plan, seed=4, resolution=300)
    dc = mesa.DataCollector(model_reporters={
        name: (lambda m, name=name: m.current.get(name, np.nan)) for name in model.columns()})
    while not model.finished:
        model.step()
        dc.collect(model)
    pd.testing.assert_frame_equal(model.record.get_model_vars_dataframe(),
                                  dc.get_model_vars_dataframe())
    assert model.datacollector is model.record


def test_derived_uniforms_depend_only_on_key_row_and_slot():
    from scipy import stats

    from simcity_quality.engine.rng import derived_rows, derived_uniforms, month_key

    slots = np.arange(200_000)
    u = derived_uniforms(12345, 0, slots)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # a subset gets the same numbers as the whole (common random numbers across levers)
    some = np.array([7, 3, 150_000])
    np.testing.assert_array_equal(derived_uniforms(12345, 0, some), u[some])
    # rows and keys are independent streams
    v = derived_uniforms(12345, 1, slots)
    w = derived_uniforms(12346, 0, slots)
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01 and abs(np.corrcoef(u, w)[0, 1]) < 0.01
    assert derived_rows(1, 3, some).shape == (3, 3)
    keys = {month_key(np.random.default_rng(s)) for s in range(50)}
    assert len(keys) == 50


def test_derived_rows_compiled_and_by_arrays_agree():
    """The compiled hash and its numpy form (run when numba's JIT is off) give the same bits."""
    from simcity_quality.engine.rng import derived_rows, row_bases, splitmix_arrays

    rng = np.random.default_rng(0)
    for dtype in (np.int64, np.int32, np.uint64):
        slots = rng.integers(0, 2**31, 1_000).astype(dtype)
        key = int(rng.integers(0, 2**62)) * 2 + 1
        np.testing.assert_array_equal(derived_rows(key, 4, slots),
                                      splitmix_arrays(row_bases(key, 4), slots))


def test_the_exit_step_reads_one_flag_per_slot_after_a_december_split(plan, monkeypatch):
    """Judging noise high enough that members of weighted agents win titles: the award round
    splits them off after the month's inspections, so the population has more slots than the
    inspection's flags. The exit kernel must still get one flag per slot (it once read past
    the flags, and the run then differed from process to process)."""
    from simcity_quality.engine import demography

    seen = []
    kernel = demography.leave

    def checked(*args):  # the firm's arrays (demography.EXIT_STATE), then the month's
        state, (revoked, closed, _hazard_exits, _p, _counts) = args[:-5], args[-5:]
        seen.append((state[0].shape[0], revoked.shape[0], closed.shape[0]))
        return kernel(*args)

    monkeypatch.setattr(demography, "leave", checked)
    model = QualityCityModel(plan.override({"awards.judging_noise": 1.0}),
                             seed=sq.replication_seed(2010, 17), resolution=200)
    before = model.pop.n_slots
    for _ in range(12):
        model.step()
    assert model.pop.n_slots > before  # December's round split winners off
    assert all(slots == r == c for slots, r, c in seen), seen[-1]
