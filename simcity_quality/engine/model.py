"""The city model: a ``mesa.Model`` stepping the whole enterprise population month by month.

One step is one month. The order within a month is fixed (docs/ODD.md, process overview):
levers in force -> January set-up (standards, key projects) -> campaign -> firm decisions ->
production and finances -> national spot checks -> city inspections and the review of discharge
sources -> beliefs -> titles reviewed -> December
award round ->
interest subsidies -> exit and entry -> construction works -> service firms -> measurement.
Each phase is a function of its own module; this one orders them and keeps the run's state.

Random numbers: the replication's ``SeedSequence`` is split into one child stream per mechanism
(``STREAMS``); each draws full-population arrays every month whatever the levers, so two scenarios
run with the same seed share their random numbers (common random numbers).
"""

from functools import partial

import mesa
import numpy as np
import pandas as pd

from ..categories import EFFORTS, GRADES, INVESTMENTS, SECTORS, SIZES, TIERS
from ..errors import renamed
from ..scenario import Scenario
from ..targets import target_list
from . import kpis, quality_file
from .behaviour import choose, counterfeit_probability, investments_made
from .columns import CUMULATIVE, REPORTED, TARGET_KPIS
from .construction import choose_effort, complete_works, create_contractors, draw_works
from .demography import admit, entrant_attributes, entrants, exits, thin_entrants
from .finance import produce
from .government import (
    award_titles,
    book_inspections,
    book_source_review,
    campaign,
    choose_inspected,
    city_inspection,
    field_cutoffs,
    grade_values,
    held_title_expiry,
    learn_win_rates,
    national_spot_check,
    pay_subsidies,
    record_cutoffs,
    review_sources,
    review_titles,
    select_key_projects,
    tighten_standards,
    title_contenders,
    update_beliefs,
    year_cutoffs,
)
from .ledger import Ledger
from .measurement import Tallies
from .observer import Observer
from .parameters import ParameterCache, as_numbers
from .population import (
    Population,
    create_population,
    firm_tables,
    individually_simulated,
    sector_cod_coefficients,
)
from .record import MonthlyRecord
from .resolution import check_resolution, mean_weights, proportional
from .rng import derived_rows, month_key
from .services import adopt_standards, create_service_firms, demonstration_contest
from .shared import MONTHS_PER_YEAR
from .wastewater import treatment_cost_yuan

# new mechanisms go at the end, so existing streams keep their seeds
STREAMS = ("population", "national", "inspection", "decisions", "awards", "entry_exit",
           "subsidies", "mesa", "construction", "services", "resolution", "titles",
           "source_review")


def keyed(rng: np.random.Generator):
    """A source of uniforms ``(rows, codes) -> (rows, len(codes))`` from one 64-bit key drawn
    from ``rng``: one draw a month whatever the levers, and each firm's uniforms a function of
    its slot (or member code) alone (common random numbers)."""
    return partial(derived_rows, month_key(rng))


# the contenders' investments counted each month (``title_contenders``), by investment bit
_CONTENDER_COUNTS = ("contender_upgrades", "contender_intl_adoptions")
_CONTENDER_BITS = np.array([INVESTMENTS.index("upgrade"), INVESTMENTS.index("intl_standard")])


def stream_seeds(seed: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``seed``, without consuming it: what ``seed.spawn(n)`` gives
    a fresh ``SeedSequence``, whatever was spawned from this object before, so the same
    object given twice gives the same run."""
    return [np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i),
                                   pool_size=seed.pool_size) for i in range(n)]


class QualityCityModel(mesa.Model):
    """One city from ``city.base_year`` (January) to the end of ``horizon.end_year``.

    Args:
        scenario: a validated :class:`~simcity_quality.scenario.Scenario`; its ``city.firms``,
            ``city.contractors`` and ``city.service_firms`` are the city.
        seed: a ``numpy.random.SeedSequence`` (or an int to build one) for this replication;
            it is read, never spawned from, so the same object twice gives the same run.
        resolution: how many industrial enterprises are simulated (default
            ``city.resolution``, else all of them). Medium and small firms without a title
            are thinned, each simulated one standing for several of its size
            (engine/resolution.py); money, counts and KPIs are for the whole city whatever the
            resolution.
        track: ids of enterprises whose monthly history to keep (see :meth:`enterprise`).
        observer: an :class:`~.observer.Observer` told of each month's decisions and
            inspections (it only reads; the run is the same with or without it).
    """

    @renamed(firms="resolution")
    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence | int = 0,
                 resolution: int | None = None, track=(), observer: Observer | None = None):
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        children = stream_seeds(ss, len(STREAMS))
        super().__init__(rng=np.random.default_rng(children[STREAMS.index("mesa")]))
        self.seed_sequence = ss
        self.observer = observer if observer is not None else Observer()
        self.levers = scenario.levers_for(scenario.city.base_year)
        # entry/exit and construction spawn a fresh child of their stream each month: their
        # draws (entrants, Poisson counts) vary in number with the levers
        self.streams = {name: np.random.default_rng(child)
                        for name, child in zip(STREAMS, children, strict=True)
                        if name not in ("entry_exit", "construction")}
        self._entry_ss = children[STREAMS.index("entry_exit")]
        self.scenario = sc = scenario
        self.resolution = check_resolution(resolution, sc)
        self.n_firms = sc.city.firms
        self.years = list(range(sc.city.base_year, sc.horizon.end_year + 1))
        # what the city's treatment plants cost a year (outside the plan; ODD §7.17)
        self._plant_cost = {y: treatment_cost_yuan(sc, y) for y in self.years}
        self.n_months = 12 * len(self.years)
        self.ledger = Ledger(self.years)
        self.targets = target_list(sc.targets)
        self._cod_coef = sector_cod_coefficients(sc)

        sq_rate = min(1.0, sc.status_quo.inspection.spot_checks_per_year / sc.city.firms)
        thin = self.streams["resolution"]
        self.pop: Population = create_population(sc, self.resolution, self.streams["population"],
                                                 thin, initial_belief=sq_rate)
        # the weight an entrant of each size class is kept at: the mean weight of the class's
        # thinned agents (1 when nothing is thinned; large firms never are)
        thinned = ~individually_simulated({"size": self.pop.size, "tier": self.pop.tier})
        self._entrant_weight = mean_weights(np.where(thinned, self.pop.weight, 0.0),
                                            self.pop.size, len(SIZES))
        # counterfeiting at the start: the status-quo decision rule, drawn once
        p_cf = counterfeit_probability(self.pop, sc.levers_for(self.years[0]), sc)
        self.pop.counterfeit[:] = self.streams["population"].random(self.pop.n_slots) < p_cf
        # titles held at the start: each at a uniformly drawn point of its validity (§7.7)
        self.pop.title_expires[:] = held_title_expiry(
            self.pop.tier, sc.awards.held_title_validity_months,
            self.streams["titles"].random(self.pop.n_slots))
        self._next_id = self.pop.n_slots
        self._firm_tables = firm_tables(sc)
        self._parameters = ParameterCache(sc)  # the compiled rules' numbers, once a year
        self._brand_premium = np.array([0.0, *(getattr(sc.market.brand_premium, t)
                                               for t in TIERS[1:])])
        self._construction_ss = children[STREAMS.index("construction")]
        c = sc.city
        self.contractors = create_contractors(
            sc, proportional(c.contractors, self.resolution, c.firms),
            np.random.default_rng(self._construction_ss.spawn(1)[0]), thin)
        # contractors' effort at the start: every one chooses once under the status quo
        n_con = self.contractors.size.shape[0]
        init_rng = np.random.default_rng(self._construction_ss.spawn(1)[0])
        choose_effort(self.contractors, sc.levers_for(self.years[0]), sc, np.zeros(n_con),
                      init_rng.gumbel(size=(len(EFFORTS), n_con)))
        self.service_firms = create_service_firms(
            sc, proportional(c.service_firms, self.resolution, c.firms),
            self.streams["services"], thin)
        b = sc.behaviour
        self._demo_win_belief = b.initial_win_belief
        # beliefs' anchors: inspection rate seen per sector x tier (normal, watched)
        self._anchors = np.full((len(SECTORS), 2), sq_rate)
        # perceived chance that an application for each tier wins (index 0: no title)
        self._win_belief = np.full(len(TIERS), b.initial_win_belief)
        # the cut-off firms judge their chances against (§7.7): under awards.judging =
        # "cutoff" the field's, fixed from the base-year city; under "quota" each tier's last
        # winning score, NaN until a round has had a winner
        self._field_cutoff = field_cutoffs(self.pop, sc.awards)
        self._title_cutoff = np.full(len(TIERS), np.nan)
        # the grades' moves firms see this year, the firm-months at each grade, and the present
        # value of each grade they learnt from last year's (zero until then; ODD §7.5)
        self._grade_moves = np.zeros((len(GRADES), len(GRADES)))
        self._grade_exposure = np.zeros(len(GRADES))
        self._grade_value = np.zeros(len(GRADES))
        self._years_unpreferred = np.zeros(len(GRADES))
        self._years_untitled = np.zeros(len(GRADES))
        self._years_unsubsidised = np.zeros(len(GRADES))
        # key projects chosen per eligible firm at the last January selection (§7.5, §7.8)
        self._key_project_rate = 0.0
        # the year's decision record with what firms learnt, as the decision rule takes it
        # (``_decision_numbers``): (year, record), None when what firms learnt has changed
        self._decisions = None
        self._inspection_carry = 0.0

        self.counts = dict.fromkeys(CUMULATIVE, 0)
        self.tallies = Tallies(sc, self.years, self._cod_coef)
        self.current: dict[str, float] = {}

        self.tracked = set(int(i) for i in track)
        self._history: list[dict] = []

        # the monthly time series (``datacollector`` keeps Mesa's name for it)
        self.record = self.datacollector = MonthlyRecord(self.columns(), self.n_months)

    # ------------------------------------------------------------------------------
    @staticmethod
    def columns() -> list[str]:
        """Columns of the monthly time series (KPIs, reported counts, budget totals)."""
        return [*TARGET_KPIS, *REPORTED, "spending_province", "spending_city", "spending_total"]

    @property
    def month_index(self) -> int:
        """Months completed so far (0 before the first step)."""
        return self.steps

    @property
    def finished(self) -> bool:
        """Whether the horizon has been reached."""
        return self.steps >= self.n_months

    def date(self, month_index: int) -> pd.Timestamp:
        """Last day of the simulated month ``month_index`` (0-based)."""
        y, m = divmod(month_index, 12)
        return pd.Timestamp(self.years[0] + y, m + 1, 1) + pd.offsets.MonthEnd(0)

    def run_model(self) -> None:
        """Step to the end of the horizon."""
        while not self.finished:
            self.step()

    # ------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one month (Mesa counts ``self.steps`` up before calling this)."""
        t = self.steps - 1
        year = self.years[0] + t // 12
        month = t % 12 + 1
        sc, pop, rs = self.scenario, self.pop, self.streams
        lv = self.levers = sc.levers_for(year)  # in force this month (observers read it)
        quality_file.new_month(pop)  # the files' bit 0 is now this month

        # January: discharge standards tightened this year apply (§2.2.4); this year's key
        # technical-upgrade projects (§3.4) (streams used once a year draw only then: still the
        # same numbers whatever the levers)
        if month == 1:
            tighten_standards(pop, sc, year)
            _, self._next_id, self._key_project_rate = select_key_projects(
                pop, lv, rs["subsidies"].random(), keyed(rs["subsidies"]), self._next_id)

        # awareness campaigns (§4.5)
        if month in lv.campaigns.months:
            campaign(pop, sc, lv, year, self.ledger)

        # firm decisions: every draw derives from the month's key and the firm's slot
        p_dec, titles, p_prod = self._parameters.for_year(year)
        p_dec = self._decision_numbers(year, p_dec)
        contenders = self._contenders(year, titles)
        self.observer.before_decisions(self)
        dec = choose(pop, sc, lv, p_dec, titles, self._win_belief, keyed(rs["decisions"]),
                     len(SECTORS), self._title_cutoff)
        self.observer.after_decisions(self, dec)
        self._count_contenders_investments(contenders, dec)
        self.counts["brand_applications"] += int(round(dec.applications))
        for name in ("quality_upgrades", "intl_standard_adoptions", "certifications",
                     "abatements"):
            self.counts[name] += int(round(dec.counts[name]))
        self.counts["cod_cut_abatement"] += dec.counts["cod_cut_abatement"]
        self.counts["key_projects_subsidised"] += int(np.count_nonzero(dec.subsidised))

        # production and finances
        produce(pop, year, p_prod, self._brand_premium, self._cod_coef, self.ledger)
        # what the autonomous trend took off this month's COD a year (t; docs/ODD.md §7.3)
        cod_now = float((pop.output * self._cod_coef[pop.sector] * pop.discharge_ratio
                         * pop.weight).sum(where=pop.alive))
        self.counts["cod_cut_trend"] += (1.0 / p_prod.monthly_discharge_trend - 1.0) * cod_now

        # national supervision spot checks (§2.2.1d), not steered by the city
        self._grade_exposure += np.bincount(pop.grade[pop.alive], weights=pop.weight[pop.alive],
                                            minlength=len(GRADES))
        draws = keyed(rs["national"])
        sampled, passed, self._next_id = national_spot_check(
            pop, t, sc, draws(1, np.arange(pop.n_slots))[0],
            lambda rows, codes: draws(rows + 1, codes)[1:], self._next_id, self._grade_moves)
        self.tallies.record_spot_checks(t, pop, sampled, passed)

        # the city's own inspections (§3.3, §4.4): one firm each, drawn first
        self._inspection_carry += lv.inspection.spot_checks_per_year / MONTHS_PER_YEAR
        k = int(np.floor(self._inspection_carry))
        self._inspection_carry -= k
        outcome_draws, selection = keyed(rs["inspection"]), keyed(rs["inspection"])
        inspected, self._next_id = choose_inspected(pop, lv, k, selection, self._next_id)
        self.observer.before_inspections(self)
        out = city_inspection(pop, lv, sc, inspected, outcome_draws, self._grade_moves)
        if month == 12:
            self._learn_grade_values(p_prod, lv)
        # the environment bureau's review of every source (§3.3): deadlines and closures
        review = review_sources(pop, lv, sc, t, keyed(rs["source_review"])(
            1, np.arange(pop.n_slots))[0], self._cod_coef)
        out.closed = review.closed
        book_source_review(self.ledger, year, review)
        self.counts["deadline_orders"] += int(round(float(pop.weight[review.ordered].sum())))
        self.counts["cod_cut_closures"] += review.cod_closed
        self.observer.after_inspections(self, out)
        n_insp = int(np.count_nonzero(out.inspected))
        self.tallies.record_inspections(t, n_insp, int(np.count_nonzero(out.failed)))
        book_inspections(self.ledger, year, lv, sc, out)
        self.counts["city_inspections"] += n_insp
        for name, n in (("criminal_referrals", out.referrals),  # and the ladder's steps
                        ("correction_orders", out.corrections), ("public_notices", out.notices),
                        ("suspensions", out.suspensions)):
            self.counts[name] += n
        self._anchors = update_beliefs(pop, self._anchors, out.inspected, sc.behaviour)

        self._titles(t, year, month, lv, titles)

        self._monthly_payments(year)

        self._exit_and_entry(lv, out)
        self._construction(t, lv, year)
        self._services(lv, year, month)
        self.current = self.tallies.measure(t, pop, self.contractors, self.service_firms,
                                            self.counts, self.ledger)
        self.record.collect(self.current)
        if self.tracked:
            self._record_tracked(t)

    # ------------------------------------------------------------------------------
    def _monthly_payments(self, year: int) -> None:
        """The city's running payments: interest subsidies on key-project loans (§3.4), and a
        month of its treatment plants (outside the plan; ``wastewater``, ODD §7.17)."""
        self.ledger.book(year, "city", "interest_subsidy", pay_subsidies(self.pop))
        self.ledger.book(year, "city", "urban_wastewater_treatment",
                         self._plant_cost[year] / MONTHS_PER_YEAR)

    def _decision_numbers(self, year: int, p_dec):
        """The year's decision record ``p_dec`` with what firms learnt (§7.5: the grades'
        values and years beyond the gates, the key-project rate), its arrays as numbers
        (``parameters.as_numbers``). What firms learnt changes only in January (the key
        projects, before the decisions) and December (after them), so the record is made once
        a year, not every month."""
        if self._decisions is None or self._decisions[0] != year:
            learnt = p_dec._replace(grade_value=self._grade_value,
                                    years_unpreferred=self._years_unpreferred,
                                    years_untitled=self._years_untitled,
                                    years_unsubsidised=self._years_unsubsidised,
                                    key_project_rate=self._key_project_rate)
            self._decisions = (year, as_numbers(learnt))
        return self._decisions[1]

    def _learn_grade_values(self, p_prod, lv) -> None:
        """December: firms learn what each published grade is worth from this year's moves
        (``government.grade_values``; ODD §7.5), and the discounted years each grade leads
        them to spend beyond the gates of the procurement preference, titles and key
        projects (levers ``lv``); the year's counts start again."""
        b = self.scenario.behaviour

        def learnt(flow):
            return grade_values(self._grade_moves, self._grade_exposure, flow, b.discount_rate,
                                b.horizon_years)

        def beyond(gate: int) -> np.ndarray:  # a year's cost of 1 at each grade past the gate
            return (np.arange(len(GRADES)) > gate).astype(float)

        self._grade_value = learnt(p_prod.grade_sales_loss)
        self._years_unpreferred = learnt(beyond(p_prod.procurement_max_grade))
        self._years_untitled = learnt(beyond(GRADES.index(self.scenario.awards.max_grade)))
        self._years_unsubsidised = learnt(beyond(GRADES.index(lv.subsidy.max_grade)))
        self._grade_moves[:] = 0.0
        self._grade_exposure[:] = 0.0
        self._decisions = None

    def _titles(self, t: int, year: int, month: int, lv, titles) -> None:
        """Titles withdrawn on this month's record or re-examined at expiry (§3.1); in
        December, the award round (§3.1, §4.2) and what firms learn from it."""
        sc, pop, rs = self.scenario, self.pop, self.streams
        review = review_titles(pop, sc, t, titles.open_round)
        self.counts["titles_withdrawn"] += int(round(float(pop.weight[review.withdrawn].sum())))
        self.counts["titles_lapsed"] += int(round(float(pop.weight[review.lapsed].sum())))
        if month != 12:
            return
        u_round = rs["awards"].random(len(TIERS) - 1)
        res, self._next_id = award_titles(pop, lv, sc, year, self.ledger, keyed(rs["awards"]),
                                          u_round, self._next_id, t, self._title_cutoff,
                                          titles.open_round)
        for tier, won in res.won.items():
            self.counts[f"titles_won_{TIERS[tier]}"] += won
        if sc.awards.judging == "cutoff":
            self.counts["title_recommendations"] += sum(res.recommended.values())
        learn_win_rates(self._win_belief, res, sc.behaviour.win_belief_learning)
        record_cutoffs(self._title_cutoff, res)

    def _contenders(self, year: int, titles) -> np.ndarray:
        """This month's cut-offs (the field's under ``awards.judging = "cutoff"``, known to
        all) and the contenders for a title they give (counted in ``title_contenders``)."""
        sc, pop = self.scenario, self.pop
        if sc.awards.judging == "cutoff":
            self._title_cutoff[:] = year_cutoffs(self._field_cutoff, sc.awards,
                                                 year - self.years[0])
        contenders = title_contenders(pop, sc.awards, titles.open_round, self._title_cutoff,
                                      sc.behaviour.upgrade_gain)
        self.counts["title_contenders"] = int(round(float(pop.weight[contenders].sum())))
        return contenders

    def _count_contenders_investments(self, contenders: np.ndarray, dec) -> None:
        """The upgrades and adoptions of international standards contenders made this month
        (``Decisions.invested``: bit k set for ``INVESTMENTS[k]``)."""
        made = np.zeros(len(_CONTENDER_COUNTS))
        investments_made(contenders, dec.invested, self.pop.weight,
                         _CONTENDER_BITS, made)
        for name, firms in zip(_CONTENDER_COUNTS, made.tolist(), strict=True):
            self.counts[name] += int(round(firms))

    def _exit_and_entry(self, lv, out) -> None:
        sc, pop = self.scenario, self.pop
        rng = np.random.default_rng(self._entry_ss.spawn(1)[0])  # one child per month
        still = exits(pop, out, rng.random(pop.n_slots), self._parameters.exits, self.counts)
        vacancies = sc.city.firms - int(round(still))
        k = entrants(vacancies, self._parameters.exits, rng)
        if k == 0:
            return
        attrs = entrant_attributes(sc, k, rng, self._firm_tables, self.steps)
        weight = thin_entrants(attrs, self._entrant_weight, rng.random(k))
        self._next_id = admit(pop, lv, attrs, weight, self._next_id, self._anchors,
                              self.counts)

    def _construction(self, t: int, lv, year: int) -> None:
        """Contractors choose effort and complete works (§2.2.2)."""
        con = self.contractors
        n = con.size.shape[0]
        rng = np.random.default_rng(self._construction_ss.spawn(1)[0])  # one child per month
        choose_effort(con, lv, self.scenario, rng.random(n), rng.gumbel(size=(len(EFFORTS), n)))
        w = complete_works(con, lv, *draw_works(con, lv, self.scenario, rng))
        self.tallies.record_works(t, con.size, w)
        cl = lv.construction
        works, supervised, failed, excellent = w.totals()
        self.counts["works_completed"] += works
        self.counts["works_supervised"] += supervised
        self.ledger.book(year, "city", "construction_supervision",
                         cl.cost_per_supervised_work_yuan * float(supervised))
        self.ledger.book(year, "city", "construction_penalties",
                         -cl.failure_penalty_yuan * float(failed))
        self.ledger.book(year, "city", "reward_excellent_works",
                         cl.excellence_reward_yuan * float(excellent))

    def _services(self, lv, year: int, month: int) -> None:
        """Service firms adopt standards; December demonstration contests (§2.2.3, §3.2)."""
        firms, rs = self.service_firms, self.streams["services"]
        draws = keyed(rs)
        u_review = draws(1, np.arange(firms.weight.size))[0]
        adopted, _ = adopt_standards(firms, lv, self.scenario, self._demo_win_belief,
                                     u_review, lambda rows, slots: draws(rows + 1, slots)[1:])
        adopters = int(firms.weight[adopted].sum())
        self.counts["service_adoptions"] += adopters
        self.ledger.book(year, "city", "service_standard_grant",
                         lv.services.standard_subsidy_yuan * adopters)
        if month == 12:
            contest = demonstration_contest(firms, lv, self.scenario, rs.random(), keyed(rs),
                                            self._demo_win_belief)
            self.ledger.book(year, "city", "reward_service_demonstration",
                             lv.services.demonstration_reward_yuan * contest.winners.size)
            self._demo_win_belief = contest.win_belief

    # ------------------------------------------------------------------------------
    def breakdown(self) -> pd.DataFrame:
        """Each KPI by sector and by size class, now (long format): industrial enterprises by
        sector and size, contractors by grade, service firms by service sector and size
        (column ``population`` says which)."""
        return self.tallies.breakdown(self.steps - 1, self.pop, self.contractors,
                                      self.service_firms)

    # ------------------------------------------------------------------------------
    def _slot_of(self, firm_id: int) -> int | None:
        hit = np.flatnonzero((self.pop.id == firm_id) & self.pop.alive)
        return int(hit[0]) if hit.size else None

    def _state_of(self, slot: int) -> dict:
        pop = self.pop
        row = {name: getattr(pop, name)[slot].item() for name in pop.column_names()}
        row["sector"] = SECTORS[row["sector"]]
        row["size"] = SIZES[row["size"]]
        row["tier"] = TIERS[row["tier"]]
        row["pass_probability"] = float(kpis.pass_probability(
            pop.capability[slot], pop.counterfeit[slot],
            self.scenario.behaviour.counterfeit_pass_factor))
        return row

    def _record_tracked(self, t: int) -> None:
        for firm_id in self.tracked:
            slot = self._slot_of(firm_id)
            if slot is not None:
                self._history.append({"step": t + 1, "date": self.date(t), **self._state_of(slot)})

    def enterprise(self, firm_id: int) -> dict:
        """The enterprise's current state, and its monthly ``history`` if it was tracked.

        Raises KeyError if no firm with this id is alive.
        """
        slot = self._slot_of(firm_id)
        if slot is None:
            raise KeyError(f"no enterprise with id {firm_id} is alive "
                           "(ids of exited firms are not reused)")
        state = self._state_of(slot)
        hist = [h for h in self._history if h["id"] == firm_id]
        state["history"] = pd.DataFrame(hist)
        return state

    def ledger_frame(self) -> pd.DataFrame:
        """This run's budget ledger: year, payer, line, yuan."""
        return self.ledger.frame()

    @property
    def grade_value(self) -> np.ndarray:
        """The present value (share of a year's output) of what each published grade A-D
        costs a firm over its horizon, as firms learnt it last December (ODD §7.5)."""
        return self._grade_value.copy()

    @property
    def years_unpreferred(self) -> np.ndarray:
        """Per grade A-D, the discounted years a firm starting there expects to spend at grades
        the procurement preference does not admit (``procurement.max_grade``), over its
        horizon, as firms learnt it last December (ODD §7.5)."""
        return self._years_unpreferred.copy()

    @property
    def years_untitled(self) -> np.ndarray:
        """Per grade A-D, the discounted years a firm starting there expects to spend at grades
        no title admits (``awards.max_grade``), over its horizon, as firms learnt it last
        December (ODD §7.5)."""
        return self._years_untitled.copy()

    @property
    def years_unsubsidised(self) -> np.ndarray:
        """Per grade A-D, the discounted years a firm starting there expects to spend at grades
        the key projects do not admit (``subsidy.max_grade``), over its horizon, as firms
        learnt it last December (ODD §7.5)."""
        return self._years_unsubsidised.copy()

    @property
    def key_project_rate(self) -> float:
        """Key projects the city chose per eligible firm at the last January selection: the
        chance of selection firms weigh (ODD §7.5)."""
        return self._key_project_rate

    @property
    def win_belief(self) -> np.ndarray:
        """Per tier (index 0 unused), the city-wide perceived chance that an application wins
        (ODD §7.7)."""
        return self._win_belief.copy()

    @property
    def title_cutoffs(self) -> dict[str, float]:
        """Each title's cut-off firms judge their chances against now (judging score; the
        field's under ``awards.judging = "cutoff"``, the last winning score under ``"quota"``;
        NaN while none is known)."""
        return {t: float(self._title_cutoff[i]) for i, t in enumerate(TIERS) if i > 0}

    def summary(self) -> dict:
        """The last measured values (KPIs, counts, spending)."""
        return dict(self.current)


