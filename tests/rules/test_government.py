"""§7.4-§7.8 the government's mechanisms, engine (``engine.government``) against reference
(``ReferenceCityModel``): national spot checks, city inspections with their outcome and the
quality file's tiers, beliefs and campaigns, the award round, key projects and subsidies."""

import math

import numpy as np
from scipy.special import ndtri
from states import YEAR, assert_same, edge_uniforms, firms, with_nan

from simcity_quality.categories import TIERS
from simcity_quality.engine import government, quality_file
from simcity_quality.engine.kpis import pass_probability
from simcity_quality.engine.ledger import Ledger
from simcity_quality.engine.resolution import MEMBER_BITS
from simcity_quality.experiments.equivalence import twin_reference
from simcity_quality.reference.model import InspectionDraws

T = 30  # a month index of YEAR's summer (2009 + 2 years + 6 months)
DECEMBER = 35  # the month index of YEAR's December, when the award round runs


def _pass_chance(sc, pop):
    return pass_probability(pop.capability, pop.counterfeit, sc.behaviour.counterfeit_pass_factor)


def test_national_spot_checks_agree(sc):
    pop = firms(300)
    twin = twin_reference(sc, pop)
    twin.model.steps = T + 1
    slots = np.arange(pop.n_slots)
    chance = government.national_sampling_chance(pop, T, sc)
    weights = [twin.firms[s].sampling_weight(T) for s in slots]
    mean_weight = sum(weights) / len(weights)
    assert_same(government.national_sampling_weight(pop, T, sc), weights, "sampling weight")
    assert_same(chance, [twin.firms[s].sampling_chance(T, mean_weight) for s in slots], "chance")
    u = np.where(slots % 3 == 0, chance * 1.05, chance * 0.5)  # most sampled, some just not
    test_u = edge_uniforms(_pass_chance(sc, pop), 5)
    sampled, passed, _ = government.national_spot_check(
        pop, T, sc, u, lambda rows, codes: test_u[None, codes >> MEMBER_BITS], pop.n_slots)
    twin.model.national_spot_checks(T, {twin.firms[s]: (u[s], test_u[s]) for s in slots})
    assert twin.model.spot[T].tolist() == [sampled.sum(), passed.sum()]
    assert_same(pop.problem_until, twin.enterprise_values("problem_until", slots), "problem")
    for name in ("file_national_checked", "file_national_failed"):  # the quality file
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    assert (pop.file_national_failed & np.uint64(1)).any()
    assert 0 < passed.sum() < sampled.sum() < pop.n_slots


def _inspect_both(sc, pop, twin, month: int, seed: int, moves=None):
    """One month of city inspections in both (the reference's carry set to give the same k),
    with outcome draws at the edges of each firm's chances."""
    lv = sc.levers_for(YEAR)
    insp = lv.inspection
    per_month = insp.spot_checks_per_year / 12.0
    twin.model.inspection_carry = 0.0
    twin.model.steps = month + 1
    k = math.floor(per_month)
    keys = np.random.default_rng(seed).random(pop.n_slots)
    slots = np.arange(pop.n_slots)
    u = np.vstack([edge_uniforms(np.full(pop.n_slots, insp.detection_probability), seed + 1),
                   edge_uniforms(_pass_chance(sc, pop), seed + 2),
                   edge_uniforms(np.full(pop.n_slots, insp.revocation_probability), seed + 3),
                   edge_uniforms(np.full(pop.n_slots, insp.criminal_referral_probability),
                                 seed + 4)])
    ledger = Ledger(twin.model.years)
    # the engine takes the members with the largest draws, the reference the smallest keys
    inspected, _ = government.choose_inspected(
        pop, lv, k, lambda rows, codes: keys[None, codes >> MEMBER_BITS], pop.n_slots)
    out = government.city_inspection(pop, lv, sc, inspected, lambda rows, idx: u[:rows, idx],
                                     moves)
    government.book_inspections(ledger, YEAR, lv, sc, out)
    twin.model.ledger = Ledger(twin.model.years)
    twin.model.fines_yuan = 0.0
    twin.model.city_inspections(
        lv, YEAR, month, keys={twin.firms[s]: -keys[s] for s in slots},
        draws={twin.firms[s]: InspectionDraws(*u[:, s]) for s in slots})
    assert_same(ledger.amounts, twin.model.ledger.amounts, "inspection costs and fines")
    return out, k


INSPECTED_STATE = ("cash", "counterfeit", "discharge_ratio", "watched", "clean_count", "grade",
                   "belief",
                   "file_inspected", "file_inspection_failed", "file_counterfeit_found",
                   "file_sanctioned")


def _check_inspection(sc, n: int = 300):
    pop = firms(n)
    pop.counterfeit[::2] = True  # many counterfeiters to find
    twin = twin_reference(sc, pop)
    out, k = _inspect_both(sc, pop, twin, T, seed=6)
    slots = np.arange(pop.n_slots)
    assert 10 < out.inspected.sum() == k < n
    ref_inspected = twin.enterprise_values("inspected_in", slots) == T
    assert_same(out.inspected, ref_inspected, "who is inspected")
    for name in INSPECTED_STATE:
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    assert_same(out.revoked, twin.enterprise_values("licence_revoked", slots), "revoked")
    assert_same(out.closed, twin.enterprise_values("closed", slots), "closed")
    assert abs(out.fines_yuan - twin.model.fines_yuan) < 1e-6
    assert twin.model.city_checks[T].tolist() == [k, k - out.failed.sum()]
    # closure over the discharge limit is the source review's (test_permits.py)
    assert out.revoked.any() and not out.closed.any() and out.referrals > 0
    return pop, out


def test_city_inspections_and_their_outcome_agree(sc):
    pop, out = _check_inspection(sc)
    assert out.failed.any() and (out.inspected & ~out.failed).any()
    # award holders exempt from routine inspection (the Sanlu question, §3.3)
    exempt = sc.override({"policy.inspection.exempt_award_holders": True})
    pop, out = _check_inspection(exempt)
    assert not (out.inspected & (pop.tier > 0)).any()


def test_the_inspections_fines_go_to_the_treasury_the_interpretation_names(sc):
    """§4.2, §4.4: the city pays for its inspections; their fines are the province's under
    vertical management (the default) or the city's; engine and reference book alike (the
    ledgers are compared in ``_inspect_both``)."""
    for treasury, other in (("province", "city"), ("city", "province")):
        read = sc.override({"interpretation.quality_fines_treasury": treasury})
        pop, out = _check_inspection(read)
        ledger = Ledger([YEAR])
        government.book_inspections(ledger, YEAR, read.levers_for(YEAR), read, out)
        frame = ledger.frame().set_index(["payer", "line"])["yuan"]
        assert out.fines_yuan > 0
        assert frame[(treasury, "fines_collected")] == -out.fines_yuan
        assert frame.get((other, "fines_collected"), 0.0) == 0.0
        assert frame[("city", "inspection_cost")] == (
            out.inspected.sum() * read.levers_for(YEAR).inspection.cost_per_inspection_yuan)


def test_the_quality_files_grades_move_alike_over_months(sc):
    """Failed firms fall a grade (counterfeiting found: to D); enough clean inspections raise
    them one; the watched tier is C and D."""
    everyone = sc.override({"policy.inspection.spot_checks_per_year": 40 * 12})
    pop = firms(40)
    twin = twin_reference(everyone, pop)
    rose = fell = False
    moves = np.zeros((4, 4))
    for month in range(T, T + 6):
        was = pop.grade.copy()
        _inspect_both(everyone, pop, twin, month, seed=month, moves=moves)
        slots = np.arange(pop.n_slots)
        for name in ("watched", "clean_count", "grade"):
            assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
        assert (pop.watched == (pop.grade >= 2)).all()
        rose |= (pop.grade < was).any()
        fell |= (pop.grade > was).any()
    assert rose and fell  # some firm earned a better grade, some fell
    # the moves both count for the firms' learning (§7.5), and nothing counted as a move twice
    assert_same(moves, np.array(twin.model.grade_moves), "grade moves")
    assert np.trace(moves) == 0 and moves[3, :3].sum() > 0 and moves[:3, 3].sum() > 0


def test_beliefs_and_campaigns_agree(sc):
    pop = firms()
    twin = twin_reference(sc, pop)
    inspected = np.random.default_rng(7).random(pop.n_slots) < 0.2
    for s in np.flatnonzero(inspected):
        twin.firms[int(s)].inspected_in = T
    anchors = np.random.default_rng(8).uniform(0.05, 0.5, (7, 2))
    twin.model.anchors = anchors.tolist()
    new = government.update_beliefs(pop, anchors.copy(), inspected, sc.behaviour)
    twin.model.update_beliefs(T)
    slots = np.arange(pop.n_slots)
    assert_same(new, np.array(twin.model.anchors), "anchors")
    assert_same(pop.belief, twin.enterprise_values("belief", slots), "beliefs")
    ledger = Ledger(twin.model.years)
    government.campaign(pop, sc, sc.policy, YEAR, ledger)
    twin.model.run_campaign(sc.policy, YEAR)
    assert_same(pop.belief, twin.enterprise_values("belief", slots), "beliefs after campaign")
    assert_same(ledger.amounts, twin.model.ledger.amounts, "campaign cost")
    assert ledger.total() > 0


def test_award_round_and_win_beliefs_agree(sc):
    generous = sc.override({"awards.judging": "quota",
                            **{f"awards.quota.{t}": 3.3 for t in TIERS[1:]}})
    pop = firms(200)
    applying = np.arange(pop.n_slots) % 3 == 0
    pop.applying[:] = np.where(applying, np.minimum(pop.tier + 1, len(TIERS) - 1), 0)
    pop.iso9001[applying] = True  # most applicants eligible: the quota binds in every tier
    pop.capability[applying] += 1.0
    pop.grade[applying] = 1  # in good standing (awards.max_grade)
    twin = twin_reference(generous, pop)
    lv = generous.levers_for(YEAR)
    v = np.random.default_rng(9).random((3, pop.n_slots))
    z = ndtri(v)  # the judging noise both see
    u = np.array([0.5, 0.2, 0.9])  # 3.3 a year: 3, 4 and 3 titles; 10 % more: 4, 4, 3
    ledger = Ledger(twin.model.years)
    result, _ = government.award_titles(pop, lv, generous, YEAR, ledger,
                                        lambda rows, codes: v[:rows, codes >> MEMBER_BITS], u,
                                        pop.n_slots, DECEMBER)
    twin.model.steps = DECEMBER + 1
    slots = np.arange(pop.n_slots)
    twin.model.award_round(lv, YEAR, {t: (u[t - 1], {twin.firms[s]: z[t - 1, s] for s in slots})
                                      for t in range(1, len(TIERS))})
    for t in range(1, len(TIERS)):
        ref = with_nan(twin.model.last_scores[t], [twin.firms[s] for s in slots])
        assert_same(result.scores[t], ref, f"scores for {TIERS[t]}")
        assert result.won[t] == min(3 + (u[t - 1] < 0.3), np.isfinite(result.scores[t]).sum())
    assert all(result.won[t] < np.isfinite(result.scores[t]).sum() for t in result.won)
    for name in ("tier", "title_expires", "cash", "applying", "file_title_won"):
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    won = quality_file.within(pop.file_title_won, 1)
    assert (pop.title_expires[won] == DECEMBER + generous.awards.title_validity_months).all()
    assert_same(ledger.amounts, twin.model.ledger.amounts, "rewards booked")
    win = np.full(len(TIERS), generous.behaviour.initial_win_belief)
    government.learn_win_rates(win, result, generous.behaviour.win_belief_learning)
    assert_same(win[1:], twin.model.win_belief[1:], "win beliefs")
    for t in range(1, len(TIERS)):
        assert twin.model.counts[f"titles_won_{TIERS[t]}"] == result.won[t]
    # the winning cut-off: the lowest winning score of each tier, as both record it
    cutoff = np.full(len(TIERS), np.nan)
    government.record_cutoffs(cutoff, result)
    assert_same(cutoff[1:], twin.model.title_cutoff[1:], "cut-offs")
    for t in range(1, len(TIERS)):
        won = (pop.tier == t) & quality_file.within(pop.file_title_won, 1)
        assert np.isfinite(cutoff[t]) and cutoff[t] == np.nanmin(np.where(
            won[:result.scores[t].size], result.scores[t], np.nan))


def _title_review_state(sc):
    """Title holders on both sides of every condition of the review: this month's failed
    national spot check or counterfeit found (and last month's, which no longer counts), due
    for re-examination now, overdue or not yet, still eligible or not."""
    pop = firms(300)
    n = pop.n_slots
    pop.tier[:] = np.arange(n) % len(TIERS)  # every tier, and firms without a title
    pop.title_expires[:] = np.where(pop.tier > 0, T + np.arange(n) % 5 - 2, -1)  # T-2 .. T+2
    for name, every in (("file_national_failed", 7), ("file_counterfeit_found", 11)):
        bits = getattr(pop, name)
        bits[np.arange(n) % every == 1] |= np.uint64(1)  # this month
        bits[np.arange(n) % every == 2] |= np.uint64(2)  # last month
    return pop


def test_titles_withdrawn_lapsed_and_renewed_agree(sc):
    pop = _title_review_state(sc)
    twin = twin_reference(sc, pop)
    out = government.review_titles(pop, sc, T)
    twin.model.review_titles(T)
    slots = np.arange(pop.n_slots)
    for name in ("tier", "title_expires", "applying"):
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    assert out.withdrawn.size and out.lapsed.size and out.renewed.size
    assert (pop.title_expires[out.renewed] == T + sc.awards.title_validity_months).all()
    # titles not yet due and without this month's record keep their expiry
    kept = (pop.tier > 0) & (pop.title_expires > T)
    assert kept.any()


def test_a_title_lapses_36_months_after_its_round_if_no_longer_eligible(sc):
    """Hand-computed: won in YEAR's December round (month 35), a title valid 36 months is held
    until month 70 and re-examined at month 71; a firm that has fallen below the tier's
    capability then loses it, a clean eligible one keeps it until month 107."""
    assert sc.awards.title_validity_months == 36  # the AQSIQ 2001 measures' three years
    one = sc.override({"awards.judging": "quota", "awards.quota.china_famous_brand": 2.0})
    pop = firms(2)
    pop.tier[:], pop.applying[:], pop.iso9001[:] = 1, 2, True
    pop.file_national_failed[:] = 0
    pop.capability[:] = one.awards.min_capability.china_famous_brand + 0.5
    result, _ = government.award_titles(pop, one.levers_for(YEAR), one, YEAR,
                                        Ledger(list(range(2009, 2013))),
                                        lambda rows, codes: np.full((rows, codes.size), 0.5),
                                        np.zeros(3), pop.n_slots, DECEMBER)
    assert result.won[2] == 2 and (pop.tier == 2).all()
    assert pop.title_expires.tolist() == [71, 71]
    pop.capability[0] = one.awards.min_capability.china_famous_brand - 0.1  # drifted below
    for month in range(DECEMBER + 1, 71):
        government.review_titles(pop, one, month)
        assert pop.tier.tolist() == [2, 2], month
    out = government.review_titles(pop, one, 71)
    assert out.lapsed.tolist() == [0] and out.renewed.tolist() == [1]
    assert pop.tier.tolist() == [0, 2] and pop.title_expires.tolist() == [-1, 107]


def test_a_failed_national_spot_check_or_counterfeit_found_withdraws_a_title(sc):
    """Hand-computed: three eligible holders of a title valid for two more years; the one
    whose file shows a failed national spot check this month, and the one caught
    counterfeiting, lose their title and their application; the clean one keeps both."""
    pop = firms(3)
    pop.tier[:], pop.applying[:], pop.iso9001[:] = 2, 3, True
    pop.capability[:] = sc.awards.min_capability.national_award + 1.0
    pop.title_expires[:] = T + 24
    for name in quality_file.FIELDS:
        getattr(pop, name)[:] = 0
    quality_file.record(pop, "national_failed", [0])
    quality_file.record(pop, "counterfeit_found", [1])
    out = government.review_titles(pop, sc, T)
    assert out.withdrawn.tolist() == [0, 1] and out.lapsed.size == out.renewed.size == 0
    assert pop.tier.tolist() == [0, 0, 2] and pop.applying.tolist() == [0, 0, 3]
    assert pop.title_expires.tolist() == [-1, -1, T + 24]
    quality_file.new_month(pop)  # a month later the failure is a month old: not read again
    pop.tier[0] = 1
    assert government.review_titles(pop, sc, T + 1).withdrawn.size == 0


def test_eligibility_reads_the_three_year_spot_check_record_and_certification(sc):
    """Hand-computed (docs/ODD.md §7.7): for China Famous Brand (ISO 9001 required), a firm
    with a national spot check failed 35 months ago is not eligible, one failed 36 months ago
    is (the file's last 36 months are this one and the 35 before); so are a clean firm and
    not a firm failed this month, one without ISO 9001 or one just below the capability. The
    round scores only the eligible applicants, and only they may decide to apply."""
    from simcity_quality.categories import OPTIONS, SECTORS
    from simcity_quality.engine import behaviour
    from simcity_quality.engine.parameters import decision_parameters, title_table

    assert sc.awards.clean_record_months == 36 and sc.awards.iso_required.china_famous_brand
    pop = firms(6)
    floor = sc.awards.min_capability.china_famous_brand
    pop.tier[:], pop.applying[:], pop.iso9001[:] = 1, 0, True
    pop.capability[:] = floor + 0.2
    pop.cash[:] = pop.output  # every option affordable
    pop.file_national_failed[:] = np.array([0, 1 << 35, 1 << 36, 1, 0, 0], dtype=np.uint64)
    pop.iso9001[4] = False
    pop.capability[5] = floor - 0.01
    expected = [True, False, True, False, False, False]
    assert government.title_eligible(pop, 2, sc.awards).tolist() == expected
    twin = twin_reference(sc, pop)
    assert [twin.firms[s].eligible_for(2) for s in range(6)] == expected
    # deciding: the application is open to the eligible firms only
    lv = sc.levers_for(YEAR)
    u = np.ones((len(behaviour.DRAWS) + len(OPTIONS) - 1, 6))
    u[0] = 0.0  # every firm reviews; no draw below 1 makes an investment
    dec = behaviour.choose(pop, sc, lv, decision_parameters(sc, lv), title_table(sc, lv, YEAR),
                           np.full(len(TIERS), 0.5), lambda rows, slots: u[:rows, slots],
                           len(SECTORS))
    assert np.isfinite(dec.utilities[:, OPTIONS.index("apply_title")]).tolist() == expected
    # judging: the same firms applying, only the eligible ones are scored
    pop.applying[:] = 2
    result, _ = government.award_titles(pop, lv, sc, YEAR, Ledger(list(range(2009, 2013))),
                                        lambda rows, codes: np.full((rows, codes.size), 0.5),
                                        np.zeros(3), pop.n_slots, DECEMBER,
                                        np.full(len(TIERS), 0.0))
    assert np.isfinite(result.scores[2]).tolist() == expected


def test_titles_held_at_the_start_are_reexamined_within_their_validity():
    """Hand-computed: a holder at a uniform point u of a 60-month validity is re-examined
    at month floor(60 u); firms without a title have no expiry."""
    got = government.held_title_expiry(np.array([1, 2, 3, 0]), 60,
                                       np.array([0.0, 0.5, 0.9999, 0.3]))
    assert got.tolist() == [0, 30, 59, -1]


def test_key_projects_and_interest_subsidies_agree(sc):
    pop = firms(200)
    twin = twin_reference(sc, pop)
    lv = sc.levers_for(YEAR)
    v = np.random.default_rng(10).random(pop.n_slots)
    u_round, z = 0.5, ndtri(v)
    priority, _, rate = government.select_key_projects(
        pop, lv, u_round, lambda rows, codes: v[None, codes >> MEMBER_BITS], pop.n_slots)
    slots = np.arange(pop.n_slots)
    twin.model.select_key_projects(lv, (u_round, {twin.firms[s]: z[s] for s in slots}))
    # the chance of selection firms learn (§7.5): projects chosen per eligible firm
    assert rate == pop.key_project.sum() / np.isfinite(priority).sum() == (
        twin.model.key_project_rate) and 0 < rate < 1
    assert_same(priority, with_nan(twin.model.last_priority, [twin.firms[s] for s in slots]),
                "priorities")
    assert_same(pop.key_project, twin.enterprise_values("key_project", slots), "key projects")
    assert 0 < pop.key_project.sum() < np.isfinite(priority).sum()
    paid = government.pay_subsidies(pop)
    twin.model.pay_interest_subsidies(YEAR)
    assert abs(paid - twin.model.subsidy_paid) < 1e-6 and paid > 0
    for name in ("subsidy_months_left", "subsidy_monthly"):
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)


def test_the_reference_draws_its_own_noise_by_default(sc):
    """Without given draws, the reference's award round, key-project selection and
    demonstration contest draw noise for every firm they rank."""
    generous = sc.override({"awards.judging": "quota",
                            **{f"awards.quota.{t}": 3.3 for t in TIERS[1:]}})
    pop = firms(120)
    pop.applying[:] = np.minimum(pop.tier + 1, len(TIERS) - 1)
    pop.iso9001[:] = True
    twin = twin_reference(generous, pop)
    lv = generous.levers_for(YEAR)
    twin.model.award_round(lv, YEAR)
    assert all(len(scores) > 0 for scores in twin.model.last_scores.values())
    twin.model.select_key_projects(lv)
    assert len(twin.model.last_priority) > 0


def test_the_quality_file_ages_alike_and_keeps_64_months(sc):
    """A month passes: every firm's file moves up a month in both implementations, the oldest
    month falls off, and the dated events read back."""
    pop = firms()
    pop.file_national_failed[0] = np.uint64(1) | np.uint64(1 << 63)  # this month and 63 ago
    twin = twin_reference(sc, pop)
    quality_file.new_month(pop)
    for f in twin.firms.values():
        f.age_file()
    slots = np.arange(pop.n_slots)
    for name in quality_file.FIELDS:
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    assert pop.file_national_failed[0] == 2  # last month's failure kept, the oldest gone
    assert (39, "national_failed") in quality_file.events(pop, 0, 40)
    assert quality_file.within(pop.file_national_failed[:1], 2)[0]
    assert not quality_file.within(pop.file_national_failed[:1], 1)[0]
    old = np.array([1 << 63, 1 << 35, 1 << 36], dtype=np.uint64)  # 63, 35 and 36 months ago
    assert quality_file.within(old, 64).tolist() == [True, True, True]
    assert quality_file.within(old, 36).tolist() == [False, True, False]
    assert quality_file.within(old, 63).tolist() == [False, True, True]
    # events from before the run's first month are not dated into the past
    pop.file_certified[1] = np.uint64(1 << 50) | np.uint64(1 << 3)
    assert [e for e in quality_file.events(pop, 1, 10) if e[1] == "certified"] == [
        (7, "certified")]


# ---------------------------------------------------------------------------------------
# the title contests under awards.judging = "cutoff" (docs/ODD.md §7.7)


def _contest_state(sc, n=200):
    """Applicants for every tier, most of them eligible, at judging scores around 5-8."""
    pop = firms(n)
    applying = (np.arange(pop.n_slots) % 3 == 0) & (pop.tier < len(TIERS) - 1)
    pop.applying[:] = np.where(applying, pop.tier + 1, 0)
    pop.iso9001[applying] = True
    pop.capability[applying] += 1.0
    return pop


def test_cutoff_judging_agrees_and_passes_only_recommended_candidates_at_the_bar(sc):
    """The city recommends its best applicants by their score before noise; of them, those
    whose score with the judges' noise reaches the field's cut-off win. Engine and reference
    agree on winners, rewards and recommendations; by hand, every recommended candidate
    reaching the bar wins and nobody else does."""
    assert sc.awards.judging == "cutoff"
    many = sc.override({f"awards.recommendations.{t}": 6.4 for t in TIERS[1:]})
    pop = _contest_state(many)
    base = government.judging_base(pop, many.awards)
    cutoff = np.array([np.nan, *(np.median(base[pop.applying == t]) + 0.3 for t in (1, 2, 3))])
    twin = twin_reference(many, pop)
    lv = many.levers_for(YEAR)
    v = np.random.default_rng(19).random((3, pop.n_slots))
    z = ndtri(v)
    u = np.array([0.5, 0.2, 0.9])  # 6.4 a year: 6, 7 and 6 candidates
    before = {name: getattr(pop, name).copy() for name in ("tier", "applying", "iso9001")}
    eligible = {t: (pop.applying == t) & government.title_eligible(pop, t, many.awards)
                for t in (1, 2, 3)}
    ledger = Ledger(twin.model.years)
    result, _ = government.award_titles(pop, lv, many, YEAR, ledger,
                                        lambda rows, codes: v[:rows, codes >> MEMBER_BITS], u,
                                        pop.n_slots, DECEMBER, cutoff)
    twin.model.steps = DECEMBER + 1
    twin.model.title_cutoff = list(cutoff)
    slots = np.arange(pop.n_slots)
    twin.model.award_round(lv, YEAR, {t: (u[t - 1], {twin.firms[s]: z[t - 1, s] for s in slots})
                                      for t in range(1, len(TIERS))})
    for name in ("tier", "title_expires", "cash", "applying", "file_title_won"):
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    assert_same(ledger.amounts, twin.model.ledger.amounts, "rewards booked")
    assert twin.model.counts["title_recommendations"] == sum(result.recommended.values())
    assert twin.model.title_cutoff[1:] == list(cutoff[1:])  # the field's bar is not learnt
    for t in (1, 2, 3):
        assert twin.model.counts[f"titles_won_{TIERS[t]}"] == result.won[t]
        k = (6, 7, 6)[t - 1]
        cands = np.flatnonzero(eligible[t])
        top = cands[np.argsort(-base[cands], kind="stable")[:k]]
        assert result.recommended[t] == min(k, cands.size)
        score = base + many.awards.judging_noise * z[t - 1]
        expect = top[score[top] >= cutoff[t]]
        won = np.flatnonzero((pop.tier == t) & (before["tier"] != t))
        assert sorted(won.tolist()) == sorted(expect.tolist()), TIERS[t]
        # a recommended candidate below the bar, or a better-drawn one not recommended, exist
        assert (score[top] < cutoff[t]).any() or (score[np.setdiff1d(cands, top)]
                                                  >= cutoff[t]).any()
        assert result.cutoff[t] == cutoff[t]
    assert sum(result.won.values()) > 0


def test_a_higher_bar_or_fewer_recommendations_win_fewer_titles_and_better_firms_more(sc):
    """Hand-computed: four eligible applicants for a provincial title at base scores 6, 5, 4,
    3, each drawing judging noise 0 (uniform 1/2); two recommendations; the bar at 4.5: the
    first two are recommended, both reach it, two titles. The bar at 5.5: one. One
    recommendation: one. The third firm 2 points better: it is recommended and wins instead
    of the second."""
    def round_(bases, bar, recommendations=2.0):
        one = sc.override({"awards.recommendations.provincial_award": recommendations})
        pop = firms(4)
        pop.tier[:], pop.applying[:], pop.iso9001[:], pop.output[:] = 0, 1, False, 1.0
        pop.file_national_failed[:] = 0
        pop.capability[:] = bases  # log10(1) = 0 and no ISO: the base score is the capability
        assert (pop.capability >= one.awards.min_capability.provincial_award).all()
        result, _ = government.award_titles(
            pop, one.levers_for(YEAR), one, YEAR, Ledger(list(range(2009, 2013))),
            lambda rows, codes: np.full((rows, codes.size), 0.5), np.zeros(3), pop.n_slots,
            DECEMBER, np.array([np.nan, bar, np.inf, np.inf]))
        return result.recommended[1], np.flatnonzero(pop.tier == 1).tolist()

    assert round_([6, 5, 4, 3], 4.5) == (2, [0, 1])
    assert round_([6, 5, 4, 3], 5.5) == (2, [0])
    assert round_([6, 5, 4, 3], 4.5, recommendations=1.0) == (1, [0])
    assert round_([6, 5, 6.01, 3], 4.5) == (2, [0, 2])
    assert round_([6, 5, 4, 3], 6.5) == (2, [])


def test_an_agent_standing_for_several_firms_is_recommended_and_judged_member_by_member(sc):
    """Hand-computed: one agent of weight 3 at base 6 and one of weight 1 at base 5; three
    recommendations go to the agent's three members; members draw uniforms 0.9, 0.1, 0.9
    (scores 6 + 0.5 ndtri(u)): with the bar at 5.9 two of them win and are split off."""
    pop = firms(2)
    pop.weight[:] = [3, 1]
    pop.tier[:], pop.applying[:], pop.iso9001[:], pop.output[:] = 0, 1, False, 1.0
    pop.file_national_failed[:] = 0
    pop.capability[:] = [6.0, 5.0]
    three = sc.override({"awards.recommendations.provincial_award": 3.0})
    draws = {0: 0.9, 1: 0.1, 2: 0.9}  # by member number of slot 0; slot 1 draws 0.99

    def noise(rows, codes):
        own = np.array([draws.get(int(c) & ((1 << MEMBER_BITS) - 1), 0.5)
                        if c >> MEMBER_BITS == 0 else 0.99 for c in codes])
        return np.tile(own, (rows, 1))

    result, _ = government.award_titles(
        pop, three.levers_for(YEAR), three, YEAR, Ledger(list(range(2009, 2013))), noise,
        np.zeros(3), pop.n_slots, DECEMBER, np.array([np.nan, 5.9, np.inf, np.inf]))
    assert result.recommended[1] == 3 and result.won[1] == 2
    assert ndtri(0.1) * three.awards.judging_noise + 6.0 < 5.9 < 6.0 + 0.5 * ndtri(0.9)
    assert pop.weight[:2].tolist() == [1, 1] and (pop.tier[2:] == 1).all()
    assert pop.weight[2:].sum() == 2 and pop.tier[0] == 0


def test_the_field_cutoff_passes_the_base_year_candidate_at_the_field_rate(sc):
    """Hand-computed: firms eligible for a provincial title at base scores 7, 6.5, 6 and 5
    (and one ineligible at 9); with 2.2 recommendations the candidate at rank 3 (score 6) sets
    the bar at 6 - s ndtri(0.58), so it wins with chance 0.58. With nobody eligible for a tier,
    the firms count as raised to its capability. Engine and reference agree."""
    from scipy.stats import norm

    rec = sc.override({"awards.recommendations.provincial_award": 2.2})
    aw = rec.awards
    pop = firms(5)
    pop.tier[:], pop.iso9001[:], pop.output[:] = 0, False, 1.0
    pop.file_national_failed[:] = 0
    pop.capability[:] = [7.0, 6.5, 6.0, 5.0, 9.0]
    pop.file_national_failed[4] = 1  # failed a national check: not eligible
    got = government.field_cutoffs(pop, aw)
    s_ = aw.judging_noise
    expect = 6.0 - s_ * ndtri(aw.field_pass_rate.provincial_award)
    assert math.isclose(got[1], expect, rel_tol=1e-12)
    assert math.isclose(norm.sf((expect - 6.0) / s_), aw.field_pass_rate.provincial_award,
                        rel_tol=1e-9)
    # China Famous Brand needs ISO 9001, which nobody has: every firm raised to its capability
    # (9 stays 9; the clean-record condition no longer filters); rank ceil(0.51) = 1
    raised = max(9.0, aw.min_capability.china_famous_brand)
    assert math.isclose(got[2], raised - s_ * ndtri(aw.field_pass_rate.china_famous_brand),
                        rel_tol=1e-12)
    twin = twin_reference(rec, pop)
    assert_same(got[1:], np.array(twin.model.field_cutoffs()[1:]), "field cut-offs")
    # two recommendations: rank 2 (6.5); nine, more than the four eligible: the last (5)
    for r, score in ((2.0, 6.5), (9.0, 5.0)):
        other = rec.override({"awards.recommendations.provincial_award": r})
        got_r = government.field_cutoffs(pop, other.awards)[1]
        assert math.isclose(got_r, score - s_ * ndtri(aw.field_pass_rate.provincial_award),
                            rel_tol=1e-12), r
        assert math.isclose(twin_reference(other, pop).model.field_cutoffs()[1], got_r,
                            rel_tol=1e-12)
    # nobody capable enough: both firms count as raised to the tier's capability
    weak = firms(2)
    weak.tier[:], weak.iso9001[:], weak.output[:], weak.file_national_failed[:] = 0, False, 1.0, 0
    weak.capability[:] = [1.0, 2.0]
    floor = aw.min_capability.provincial_award
    assert floor > 2.0
    got_w = government.field_cutoffs(weak, aw)[1]
    assert math.isclose(got_w, floor - s_ * ndtri(aw.field_pass_rate.provincial_award),
                        rel_tol=1e-12)
    assert math.isclose(twin_reference(rec, weak).model.field_cutoffs()[1], got_w, rel_tol=1e-12)
    drift = rec.override({"awards.cutoff_drift": 0.1}).awards
    assert_same(government.year_cutoffs(got, drift, 3)[1:], got[1:] + 0.3, "drifted cut-offs")


def test_a_closed_tier_takes_no_application_wins_nothing_and_lets_titles_lapse(sc):
    """Under ``awards.closed_years`` a tier holds no round: firms cannot apply for it, its
    applicants win nothing, and a title of it due for re-examination lapses (held ones keep
    their validity until then). Engine and reference agree."""
    from simcity_quality.categories import OPTIONS, SECTORS
    from simcity_quality.engine import behaviour
    from simcity_quality.engine.parameters import decision_parameters, title_table

    closed = sc.override({"awards.closed_years.china_famous_brand": [YEAR]})
    pop = firms(4)
    pop.tier[:], pop.applying[:], pop.iso9001[:] = 1, 0, True
    pop.capability[:] = closed.awards.min_capability.china_famous_brand + 0.5
    pop.cash[:] = pop.output
    pop.file_national_failed[:] = 0
    lv = closed.levers_for(YEAR)
    u = np.ones((len(behaviour.DRAWS) + len(OPTIONS) - 1, 4))
    u[0] = 0.0
    apply = OPTIONS.index("apply_title")
    for scenario, is_open in ((closed, False), (sc, True)):
        titles = title_table(scenario, lv, YEAR)
        assert titles.open_round.tolist() == [False, True, is_open, True]
        dec = behaviour.choose(pop, scenario, lv, decision_parameters(scenario, lv), titles,
                               np.full(len(TIERS), 0.5), lambda rows, slots: u[:rows, slots],
                               len(SECTORS))
        assert np.isfinite(dec.utilities[:, apply]).all() == is_open
        twin = twin_reference(scenario, pop)
        twin.model.win_belief = [0.5] * len(TIERS)
        twin.model.firm_decisions(lv, YEAR, {twin.firms[s]: _no_draws() for s in range(4)})
        assert all(("apply_title" in twin.firms[s].last_utilities) == is_open for s in range(4))
    # applicants of a closed tier win nothing
    pop.applying[:] = 2
    titles = title_table(closed, lv, YEAR)
    result, _ = government.award_titles(pop, lv, closed, YEAR, Ledger(list(range(2009, 2013))),
                                        lambda rows, codes: np.full((rows, codes.size), 0.9),
                                        np.zeros(3), pop.n_slots, DECEMBER,
                                        np.full(len(TIERS), -np.inf), titles.open_round)
    assert result.won[2] == 0 and result.applied[2] == 4 and (pop.tier == 1).all()
    # a China Famous Brand title due in a closed year lapses; one not due is kept
    pop.tier[:], pop.title_expires[:] = 2, [T, T, T + 5, T + 5]
    twin = twin_reference(closed, pop)
    out = government.review_titles(pop, closed, T, titles.open_round)
    twin.model.review_titles(T)  # the month's year: YEAR, closed
    assert out.lapsed.tolist() == [0, 1] and out.renewed.size == 0
    assert pop.tier.tolist() == [0, 0, 2, 2]
    assert_same(pop.tier, twin.enterprise_values("tier", np.arange(4)), "tier")
    assert twin.model.counts["titles_lapsed"] == 2


def _no_draws():
    from simcity_quality.categories import OPTIONS
    from simcity_quality.reference.model import DecisionDraws

    return DecisionDraws(0.0, 1.0, 1.0, 1.0, tuple(1.0 for _ in OPTIONS[1:]))


def test_contenders_are_eligible_or_one_upgrade_short_within_one_noise_of_the_bar(sc):
    """Hand-computed (docs/ODD.md §7.7), judging noise s, upgrade gain g: contenders are firms
    eligible for their next title whose judging score is within s of its cut-off, and firms
    one upgrade short whose score after it would be; not those farther (1.05 s), nor those
    still short after an upgrade, nor holders of the top title, nor any while the tier is
    closed or no cut-off is known. Engine and reference agree."""
    aw = sc.awards
    s_, gain, c = aw.judging_noise, sc.behaviour.upgrade_gain, aw.certification_bonus
    prov, cfb = aw.min_capability.provincial_award, aw.min_capability.china_famous_brand
    bar1, bar2 = 4.0, cfb + c - 0.1  # no size bonus (output 1); ISO 9001 for the tier-1 firms
    caps = [bar1 - 0.9 * s_, bar1 + 0.9 * s_, bar1 - 1.05 * s_, bar1 + 1.05 * s_,
            prov - gain / 2, prov - 2.5 * gain,  # tier 0, aiming at a provincial title
            cfb - 1.05 * gain,  # short of China Famous Brand even after an upgrade
            cfb - 0.01,  # one upgrade short: after it, 0.98 s above the bar
            bar1 - c,  # eligible, 0.8 above its bar (4.0 on the provincial one)
            5.0]  # holds the top title
    pop = firms(len(caps))
    pop.tier[:] = [0] * 6 + [1] * 3 + [3]
    pop.iso9001[:] = pop.tier > 0
    pop.output[:], pop.file_national_failed[:] = 1.0, 0
    pop.capability[:] = caps
    assert min(caps[:4]) >= prov and caps[8] >= cfb
    # the one-upgrade-short firm is near the bar, and would not be with a 10 % larger gain
    assert abs(cfb - 0.01 + gain + c - bar2) <= s_ < abs(cfb - 0.01 + 1.1 * gain + c - bar2)
    expect = [True, True, False, False, abs(prov + gain / 2 - bar1) <= s_, False,
              False, True, False, False]
    cutoff = np.array([np.nan, bar1, bar2, 6.0])
    open_all = np.array([False, True, True, True])
    got = government.title_contenders(pop, aw, open_all, cutoff, gain)
    assert got.tolist() == expect
    twin = twin_reference(sc, pop)
    twin.model.title_cutoff = list(cutoff)
    assert [twin.firms[i].is_contender(YEAR) for i in range(len(caps))] == expect
    closed = np.array([False, False, True, True])
    assert not government.title_contenders(pop, aw, closed, cutoff, gain)[:6].any()
    assert not government.title_contenders(pop, aw, open_all, np.full(4, np.nan), gain).any()
    # one upgrade short and near the bar only after it (0.98 s below; 0.98 s + g before it),
    # and one whose upgrade just clears China Famous Brand's capability (by less than 10 %)
    short = firms(2)
    short.tier[:], short.iso9001[:] = [0, 1], [False, True]
    short.output[:], short.file_national_failed[:] = 1.0, 0
    short.capability[:] = [prov + 0.8 - 0.98 * s_ - gain, cfb - 0.15]
    assert short.capability[0] < prov and cfb <= cfb - 0.15 + gain < 1.1 * cfb
    bars = np.array([np.nan, prov + 0.8, cfb - 0.15 + gain + c, 6.0])
    assert government.title_contenders(short, aw, open_all, bars, gain).tolist() == [True, True]
    twin = twin_reference(sc, short)
    twin.model.title_cutoff = list(bars)
    assert [twin.firms[i].is_contender(YEAR) for i in range(2)] == [True, True]


# ---------------------------------------------------------------------------------------
# §3.3 graded quality files and §4.4 the Product Quality Law's sanction ladder


def test_grade_quotas_by_hand():
    """72 weighted firms (A: 2 x 0.5, B: 50 x 1, C: 5 x 3, D: 1 x 6): cumulative shares of
    10 inspections 0.14, 7.08, 9.17, 10 round to 0, 7, 9, 10."""
    assert government.grade_quotas(10, [2, 50, 5, 1], [0.5, 1.0, 3.0, 6.0]) == [0, 7, 2, 1]
    assert government.grade_quotas(7, [0, 0, 0, 0], [1.0, 1.0, 1.0, 1.0]) == [0, 0, 0, 0]
    assert government.grade_quotas(4, [3, 3, 0, 0], [1.0, 1.0, 5.0, 5.0]) == [2, 2, 0, 0]
    assert sum(government.grade_quotas(61, [17, 240, 31, 9], [0.5, 1.0, 3.0, 6.0])) == 61


def test_regrade_by_hand():
    """Counterfeiting found: D; another failure: a grade worse (D stays D); clean inspections
    in a row raise a grade (to A only with ISO 9001); at its best grade a firm counts none."""
    grade = np.array([0, 1, 1, 2, 2, 3, 1, 1, 3], dtype=np.int8)
    count = np.array([0, 0, 1, 1, 0, 1, 1, 1, 0], dtype=np.int8)
    failed = np.array([1, 1, 0, 0, 0, 1, 0, 0, 1], dtype=bool)
    found = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1], dtype=bool)
    iso = np.array([1, 0, 1, 0, 0, 0, 0, 1, 0], dtype=bool)
    new, clean = government.regrade(grade, count, failed, found, iso, 2)
    assert new.tolist() == [1, 2, 0, 1, 2, 3, 1, 0, 3]
    assert clean.tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0]
    # three clean inspections needed: the B firm with ISO at 1 counts on to 2, no move
    new, clean = government.regrade(grade, count, failed, found, iso, 3)
    assert new[2] == 1 and clean[2] == 2


def test_the_sanction_ladder_by_hand(sc):
    """Failed honest products on each step of art. 17 (no repeat, one, two, three in the last
    12 months; one 13 months ago does not count), and counterfeiting found (arts. 49-50),
    engine against reference and against the hand-computed cash."""
    pop = firms(7)
    lv = sc.levers_for(YEAR)
    insp, m = lv.inspection, sc.market
    assert insp.sanctions == "ladder" and insp.ladder_memory_months == 12
    pop.capability[:], pop.counterfeit[:] = -5.0, False
    pop.counterfeit[5] = True
    pop.ccc_required[:], pop.discharge_ratio[:] = False, 0.5
    pop.output[:], pop.margin[:], pop.cash[:] = 20.0, 0.05, 50.0
    pop.grade[:], pop.clean_count[:], pop.tier[:] = 1, 0, 0
    bits = [0, 1 << 3, (1 << 2) | (1 << 11), 0b1110, 0, 0, 1 << 12]
    pop.file_inspection_failed[:] = np.array(bits, dtype=np.uint64)
    twin = twin_reference(sc, pop)
    twin.model.steps, twin.model.fines_yuan = T + 1, 0.0
    u = np.array([[0.0] * 7, [0.99] * 7, [0.99] * 7, [0.99] * 7])  # found; failed; no revocation
    steps = government.ladder_step(pop.file_inspection_failed, 12)
    assert steps.tolist() == [1, 2, 3, 4, 1, 1, 1]
    out = government.city_inspection(pop, lv, sc, np.ones(7, dtype=bool),
                                     lambda rows, idx: u[:rows, idx])
    for s in range(7):
        twin.firms[s].undergo_inspection(lv, T, InspectionDraws(*u[:, s]))
    notice = m.notice_sales_loss * 20.0
    suspension = 0.05 * 20.0 * insp.suspension_months / 12
    fine = insp.counterfeit_goods_multiple * insp.goods_value_share * 20.0
    expected = 50.0 - np.array([0.0, notice, notice + suspension, 0.0, 0.0, fine + notice, 0.0])
    assert np.allclose(pop.cash[[0, 1, 2, 4, 5, 6]], expected[[0, 1, 2, 4, 5, 6]], rtol=1e-12)
    assert out.revoked.tolist() == [False, False, False, True, False, False, False]
    assert abs(out.fines_yuan - fine * 1e6) < 1e-6
    assert pop.grade.tolist() == [2, 2, 2, 2, 2, 3, 2]
    slots = np.arange(7)
    for name in ("cash", "grade", "clean_count", "watched", "file_sanctioned"):
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    assert_same(out.revoked, twin.enterprise_values("licence_revoked", slots), "revoked")
    assert abs(out.fines_yuan - twin.model.fines_yuan) < 1e-6
    # a correction order is not a sanction in the file; the notice, suspension and fine are
    assert (pop.file_sanctioned & np.uint64(1)).astype(bool).tolist() == [
        False, True, True, True, False, True, False]
    # the ladder's counts: orders at step 1 (slots 0, 4, 6), notices from step 2 and for
    # counterfeiting found (1, 2, 3, 5), one suspension (2); the reference counts the same
    assert (out.corrections, out.notices, out.suspensions) == (3, 4, 1)
    assert tuple(twin.model.counts[k] for k in ("correction_orders", "public_notices",
                                                "suspensions")) == (3, 4, 1)
    # flat fines: every failure fine_yuan, counterfeiting x the multiplier; no market loss
    flat = sc.override({"policy.inspection.sanctions": "flat"})
    pop2 = firms(7)
    for name in ("capability", "counterfeit", "ccc_required", "discharge_ratio", "output",
                 "margin", "cash", "grade", "clean_count", "tier", "file_inspection_failed"):
        getattr(pop2, name)[:] = getattr(pop, name) if name not in ("cash", "counterfeit",
                                                                      "grade") else 0
    pop2.cash[:], pop2.counterfeit[5], pop2.grade[:] = 50.0, True, 1
    pop2.file_inspection_failed[:] = np.array(bits, dtype=np.uint64)
    finsp = flat.levers_for(YEAR).inspection
    twin2 = twin_reference(flat, pop2)
    twin2.model.steps, twin2.model.fines_yuan = T + 1, 0.0
    out2 = government.city_inspection(pop2, flat.levers_for(YEAR), flat,
                                      np.ones(7, dtype=bool), lambda rows, idx: u[:rows, idx])
    assert (out2.corrections, out2.notices, out2.suspensions) == (0, 0, 0)
    for s in range(7):
        twin2.firms[s].undergo_inspection(flat.levers_for(YEAR), T, InspectionDraws(*u[:, s]))
    assert_same(pop2.cash, twin2.enterprise_values("cash", slots), "flat fines")
    expected = 50.0 - np.full(7, finsp.fine_yuan / 1e6)
    expected[5] = 50.0 - finsp.fine_yuan * finsp.counterfeit_fine_multiplier / 1e6
    assert np.allclose(pop2.cash, expected, rtol=1e-12)


def test_graded_inspection_shares_the_budget_by_grade(sc):
    """Tiered targeting draws each grade's quota (grade_quotas of members x weight) at random
    within the grade; uniform targeting ignores the grades; the reference picks the same."""
    pop = firms(300)
    lv = sc.levers_for(YEAR)
    k = 60
    keys = np.random.default_rng(21).random(pop.n_slots)
    inspected, _ = government.choose_inspected(
        pop, lv, k, lambda rows, codes: keys[None, codes >> MEMBER_BITS], pop.n_slots)
    w = [getattr(lv.inspection.grade_inspection_weight, g) for g in "ABCD"]
    quotas = government.grade_quotas(k, [float((pop.grade == g).sum()) for g in range(4)], w)
    assert [int((inspected & (pop.grade == g)).sum()) for g in range(4)] == quotas
    assert quotas[3] > quotas[0] and inspected.sum() == k
    twin = twin_reference(sc, pop)
    slots = np.arange(pop.n_slots)
    chosen = twin.model.choose_inspected(lv, k, {twin.firms[s]: -keys[s] for s in slots})
    ref = np.zeros(pop.n_slots, dtype=bool)
    slot_of = {f: s for s, f in twin.firms.items()}
    ref[[slot_of[f] for f in chosen]] = True
    assert_same(inspected, ref, "who is inspected")
    uniform = sc.override({"policy.inspection.targeting": "uniform"}).levers_for(YEAR)
    flat_pick, _ = government.choose_inspected(
        pop, uniform, k, lambda rows, codes: keys[None, codes >> MEMBER_BITS], pop.n_slots)
    assert flat_pick.sum() == k
    assert (flat_pick == (keys >= np.sort(keys)[-k])).all()  # the k largest keys, any grade


def test_a_failed_national_check_lowers_the_grade(sc):
    """A failed national spot check reaches the city's file: a grade worse, the clean count
    reset (engine and reference)."""
    pop = firms(300)
    was = pop.grade.copy()
    twin = twin_reference(sc, pop)
    twin.model.steps = T + 1
    slots = np.arange(pop.n_slots)
    u = np.zeros(pop.n_slots)  # everyone sampled
    test_u = edge_uniforms(_pass_chance(sc, pop), 5)
    moves = np.zeros((4, 4))
    _, passed, _ = government.national_spot_check(
        pop, T, sc, u, lambda rows, codes: test_u[None, codes >> MEMBER_BITS], pop.n_slots,
        moves)
    weights = [twin.firms[s].sampling_weight(T) for s in slots]
    twin.model.national_spot_checks(T, {twin.firms[s]: (u[s], test_u[s]) for s in slots})
    failed = (pop.file_national_failed & np.uint64(1)).astype(bool)
    assert failed.any() and (~failed).any() and len(weights) == pop.n_slots
    assert (pop.grade == np.where(failed, np.minimum(was + 1, 3), was)).all()
    assert (pop.clean_count[failed] == 0).all()
    for name in ("grade", "clean_count", "watched"):
        assert_same(getattr(pop, name), twin.enterprise_values(name, slots), name)
    assert_same(moves, np.array(twin.model.grade_moves), "grade moves")
    assert moves.sum() == (failed & (was < 3)).sum() and np.trace(moves) == 0


def test_grades_gate_titles_and_key_projects(sc):
    """A firm at a grade worse than awards.max_grade is not eligible for a title, nor one
    worse than subsidy.max_grade a key project (engine and reference)."""
    pop = firms(8)
    pop.capability[:], pop.iso9001[:], pop.file_national_failed[:] = 5.0, True, 0
    pop.grade[:] = [0, 1, 2, 3, 0, 1, 2, 3]
    pop.credit[:], pop.subsidy_months_left[:] = True, 0
    twin = twin_reference(sc, pop)
    assert sc.awards.max_grade == "B" and sc.policy.subsidy.max_grade == "B"
    ok = government.title_eligible(pop, 1, sc.awards)
    assert ok.tolist() == [True, True, False, False] * 2
    assert [twin.firms[s].eligible_for(1) for s in range(8)] == ok.tolist()
    priority, _, _ = government.select_key_projects(
        pop, sc.policy, 0.5, lambda rows, codes: np.full((rows, codes.size), 0.5), pop.n_slots)
    assert np.isfinite(priority).tolist() == ok.tolist()
    twin.model.select_key_projects(sc.policy, (0.5, {twin.firms[s]: 0.0 for s in range(8)}))
    slot_of = {f: s for s, f in twin.firms.items()}
    assert sorted(slot_of[f] for f in twin.model.last_priority) == np.flatnonzero(ok).tolist()


def test_grade_values_by_hand_and_alike(sc):
    """The present value of each grade's cost over the horizon (§7.5): with no moves, each
    grade's own yearly cost discounted over round(12 H) months; with every B firm falling to D
    each month, B pays its cost once and D's after; engine and reference agree on learnt
    moves."""
    b = sc.behaviour
    flow = np.array([0.0, 0.002, 0.005, 0.01])
    months = round(12 * b.horizon_years)
    d = (1 + b.discount_rate) ** (-1 / 12)
    annuity = sum(d ** m for m in range(months))
    none = government.grade_values(np.zeros((4, 4)), np.full(4, 50.0), flow, b.discount_rate,
                                   b.horizon_years)
    assert np.allclose(none, flow / 12 * annuity, rtol=1e-12, atol=0)
    moves = np.zeros((4, 4))
    moves[1, 3] = 100.0
    fall = government.grade_values(moves, np.array([0.0, 100.0, 0.0, 7.0]), flow,
                                   b.discount_rate, b.horizon_years)
    assert abs(fall[1] - (0.002 / 12 + 0.01 / 12 * (annuity - 1))) < 1e-15
    assert abs(fall[3] - 0.01 / 12 * annuity) < 1e-15 and fall[0] == 0.0
    twin = twin_reference(sc, firms(5))
    rng = np.random.default_rng(31)
    learnt = rng.integers(0, 9, (4, 4)).astype(float)
    np.fill_diagonal(learnt, 0.0)
    exposure = np.array([120.0, 400.0, 60.0, 0.0])  # nobody held D: no move from it
    twin.model.grade_moves = learnt.astype(int).tolist()
    twin.model.grade_exposure = exposure.tolist()
    engine = government.grade_values(learnt, exposure, np.array(twin.model.p.grade_sales_loss),
                                     b.discount_rate, b.horizon_years)
    assert_same(engine, twin.model.grade_values(), "grade values")
    assert (np.diff(engine) > 0).all()  # worse grades cost more
    gate = np.array([0.0, 0.0, 0.0, 1.0])  # the plan's procurement preference admits A-C
    beyond = government.grade_values(learnt, exposure, gate, b.discount_rate, b.horizon_years)
    twin.model.learn_grade_values(sc.policy)
    assert sc.policy.procurement.max_grade == "C"
    assert_same(engine, twin.model.grade_value, "learnt in December")
    assert_same(beyond, twin.model.years_unpreferred, "years beyond the preference's grade")
    assert beyond[3] > beyond[2] > 0 and beyond[3] < b.horizon_years
    assert twin.model.grade_exposure == [0.0] * 4 and not np.any(twin.model.grade_moves)


def test_the_years_beyond_the_title_and_key_project_grades_are_learnt_alike(sc):
    """December (§7.5): besides the grades' values and the years beyond the procurement
    preference's grade, firms learn the discounted years beyond the titles' grade
    (awards.max_grade, B: at C and D) and the key projects' (subsidy.max_grade, here C: at
    D), the same sum with a yearly cost of 1 there; engine model and reference alike, and
    the year's counts start again. Zeros until the first December."""
    from simcity_quality.engine.model import QualityCityModel
    from simcity_quality.engine.parameters import production_parameters
    from simcity_quality.experiments.equivalence import small_city

    case = sc.override({"policy.subsidy.max_grade": "C", "policy.procurement.max_grade": "A"})
    lv, b = case.levers_for(YEAR), case.behaviour
    model = QualityCityModel(small_city(case, 50), seed=1)
    for name in ("years_untitled", "years_unsubsidised"):
        assert not getattr(model, name).any()
    assert model.key_project_rate == 0.0
    rng = np.random.default_rng(7)
    learnt = rng.integers(0, 9, (4, 4)).astype(float)
    np.fill_diagonal(learnt, 0.0)
    exposure = np.array([150.0, 380.0, 70.0, 40.0])
    model._grade_moves[:], model._grade_exposure[:] = learnt, exposure
    model._learn_grade_values(production_parameters(case, lv), lv)
    twin = twin_reference(case, firms(5))
    twin.model.grade_moves = learnt.astype(int).tolist()
    twin.model.grade_exposure = exposure.tolist()
    twin.model.learn_grade_values(lv)

    def beyond(gate):
        return government.grade_values(learnt, exposure, (np.arange(4) > gate).astype(float),
                                       b.discount_rate, b.horizon_years)

    by_hand = {"grade_value": government.grade_values(
        learnt, exposure, np.array(twin.model.p.grade_sales_loss), b.discount_rate,
        b.horizon_years), "years_unpreferred": beyond(0), "years_untitled": beyond(1),
        "years_unsubsidised": beyond(2)}
    for name, expected in by_hand.items():
        assert_same(getattr(model, name), expected, name)
        assert_same(getattr(twin.model, name), expected, name)
    assert by_hand["years_untitled"][2] > by_hand["years_unsubsidised"][2] > 0
    assert not model._grade_moves.any() and not model._grade_exposure.any()
    assert twin.model.grade_exposure == [0.0] * 4 and not np.any(twin.model.grade_moves)
