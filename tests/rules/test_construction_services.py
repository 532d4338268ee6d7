"""§7.14 contractors' effort and works, §7.15 service firms' adoption and the demonstration
contest, engine (``engine.construction``, ``engine.services``) against reference
(``Contractor``, ``ServiceFirm``, ``ReferenceCityModel.demonstration_contest``)."""

import numpy as np
from scipy.special import ndtri
from states import YEAR, assert_same, contractors, firms, service_firms, with_nan

from simcity_quality.categories import EFFORTS, FAIL, HIDDEN
from simcity_quality.engine import construction, services
from simcity_quality.engine.resolution import MEMBER_BITS
from simcity_quality.experiments.equivalence import twin_reference
from simcity_quality.reference.model import WorkDraws


def test_work_outcome_chances_agree(sc):
    con = contractors()
    twin = twin_reference(sc, firms(6), contractors=con)
    lv = sc.levers_for(YEAR)
    for effort in range(len(EFFORTS)):
        engine = construction.outcome_probabilities(con, lv, sc, np.full(len(con.size), effort))
        ref = [c.outcome_probabilities(lv, effort) for c in twin.contractors]
        assert_same(engine, ref, f"outcome chances at effort {EFFORTS[effort]}")
        assert_same(construction.supervision_share(con, lv),
                    [c.supervision_share(lv) for c in twin.contractors], "supervision share")


def test_contractors_effort_choice_agrees(sc):
    con = contractors()
    twin = twin_reference(sc, firms(6), contractors=con)
    lv = sc.levers_for(YEAR)
    rng = np.random.default_rng(14)
    u = rng.random(len(con.size)) * 2 * sc.construction.review_rate  # about half review
    gumbel = rng.gumbel(size=(len(EFFORTS), len(con.size)))
    before = con.effort.copy()
    utilities = construction.choose_effort(con, lv, sc, u, gumbel)
    reviewed = []
    for i, c in enumerate(twin.contractors):
        c.choose_effort(lv, draws=(u[i], tuple(gumbel[:, i])))
        reviewed.append(getattr(c, "last_utilities", None) is not None)
        if not reviewed[-1]:
            c.last_utilities = [np.nan] * len(EFFORTS)
    assert_same(utilities, np.array(twin.contractor_values("last_utilities")).T, "utilities")
    assert_same(con.effort, twin.contractor_values("effort"), "efforts")
    assert (con.effort != before).any() and not all(reviewed)


def test_completed_works_and_the_contractors_file_agree(sc):
    con = contractors()
    lv = sc.levers_for(YEAR)
    counts, supervised = construction.draw_works(con, lv, sc, np.random.default_rng(15))
    counts[::5, :, FAIL] += 1  # some failed acceptances
    counts[1::3, 1, HIDDEN] += 1  # some hidden defects in large projects
    # some watched contractors reach exactly the clean works that clear their record
    need = lv.construction.clean_works_to_leave
    edge = np.flatnonzero(con.watched & (counts[:, :, FAIL].sum(axis=1) == 0))[::2]
    con.clean_works[edge] = np.maximum(need - counts[edge].sum(axis=(1, 2)), 0)
    twin = twin_reference(sc, firms(6), contractors=con)
    model = twin.model
    model.works_tally = [[0] * 5 for _ in range(3)]
    model.supervised_works = model.failed_works = model.excellent_works = 0
    w = construction.complete_works(con, lv, counts, supervised)
    for i, c in enumerate(twin.contractors):
        c.complete_works(lv, WorkDraws(tuple(counts[i, 0]), tuple(counts[i, 1]),
                                       int(supervised[i])))
    for name in ("watched", "clean_works"):
        assert_same(getattr(con, name), twin.contractor_values(name), name)
    tally = np.array(model.works_tally)  # by size: works, other, failed, excellent, hidden
    for j, name in enumerate(("works", "other", "failed", "excellent", "hidden")):
        engine = np.bincount(con.size, weights=getattr(w, name), minlength=3)
        assert_same(engine, tally[:, j], f"works tally {name}")
    assert model.failed_works == w.failed_all.sum() and model.supervised_works == supervised.sum()
    assert (twin.contractor_values("watched") != contractors().watched).any()
    assert (con.clean_works[edge] == 0).any() and not con.watched[edge].all()


def test_service_standard_adoption_agrees(sc):
    sf = service_firms()
    twin = twin_reference(sc, firms(6), service_firms=sf)
    lv = sc.levers_for(YEAR)
    twin.model.demo_win_belief = 0.3
    rng = np.random.default_rng(16)
    u_review = rng.random(len(sf.size)) * 2 * sc.behaviour.decision_rate
    key = 4242
    u_adopt = np.random.default_rng(key).random(len(sf.size))
    adopted, chance = services.adopt_standards(sf, lv, sc, 0.3, u_review,
                                               lambda rows, idx: u_adopt[None, idx])
    twin.model.counts = dict.fromkeys(twin.model.counts, 0)
    twin.model.service_standards(lv, YEAR, 1, {f: (u_review[i], u_adopt[i])
                                               for i, f in enumerate(twin.service_firms)})
    ref_chance = [getattr(f, "last_chance", np.nan) for f in twin.service_firms]
    assert_same(chance, ref_chance, "chances of adopting")
    assert_same(sf.standard, twin.service_values("standard"), "standards")
    assert not twin.service_values("demonstration").sum() > service_firms().demonstration.sum()
    assert twin.model.counts["service_adoptions"] == adopted.sum() > 0
    assert abs(twin.model.service_grants - adopted.sum() * lv.services.standard_subsidy_yuan) < 1


def test_demonstration_contest_agrees(sc):
    sf = service_firms()
    twin = twin_reference(sc, firms(6), service_firms=sf)
    lv = sc.levers_for(YEAR)
    rng = np.random.default_rng(17)
    u_round, u = rng.random(), rng.random(len(sf.size))
    z = ndtri(u)  # the reference's normal judging noise is the engine's uniform's quantile
    twin.model.demo_win_belief = 0.3
    contest = services.demonstration_contest(
        sf, lv, sc, u_round, lambda rows, codes: u[None, codes >> MEMBER_BITS], 0.3)
    twin.model.demonstration_contest(lv, YEAR, (u_round, {f: z[i] for i, f in
                                                          enumerate(twin.service_firms)}))
    assert_same(contest.scores, with_nan(twin.model.last_contest_scores, twin.service_firms),
                "scores")
    assert_same(sf.demonstration, twin.service_values("demonstration"), "titles")
    assert abs(contest.win_belief - twin.model.demo_win_belief) < 1e-12
    assert 0 < contest.winners.size < contest.eligible
    assert twin.model.ledger.total() == (contest.winners.size
                                         * lv.services.demonstration_reward_yuan)


def test_the_contest_is_held_in_december_only(sc):
    """The reference runs the contest inside its monthly service step (the engine's model
    does the same in ``_services``): not in January, in December."""
    twin = twin_reference(sc, firms(6), service_firms=service_firms())
    lv = sc.levers_for(YEAR)
    before = twin.service_values("demonstration").sum()
    twin.model.service_standards(lv, YEAR, 1)
    assert twin.service_values("demonstration").sum() == before
    twin.model.service_standards(lv, YEAR, 12)
    assert twin.service_values("demonstration").sum() > before
