"""The city model: a ``mesa.Model`` stepping the whole enterprise population month by month.

One step is one month. The order within a month is fixed (docs/ODD.md, process overview):
levers in force -> January set-up (key projects) -> campaign -> firm decisions -> production and
finances -> national spot checks -> city inspections -> beliefs -> December award round ->
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

from ..categories import EFFORTS, OPTIONS, SECTORS, SIZES, TIERS
from ..scenario import Scenario, simulated_firms
from ..targets import target_list
from . import kpis
from .behaviour import choose, counterfeit_probability
from .columns import CUMULATIVE, REPORTED, TARGET_KPIS
from .construction import choose_effort, complete_works, create_contractors, draw_works
from .demography import admit, entrant_attributes, exits
from .finance import produce
from .government import (
    award_titles,
    book_inspections,
    campaign,
    city_inspection,
    learn_win_rates,
    national_spot_check,
    pay_subsidies,
    select_key_projects,
    update_beliefs,
)
from .ledger import Ledger
from .measurement import Tallies
from .observer import Observer
from .parameters import ParameterCache
from .population import Population, create_population, firm_tables, sector_cod_coefficients
from .record import MonthlyRecord
from .rng import derived_rows, month_key
from .services import adopt_standards, create_service_firms, demonstration_contest
from .shared import MONTHS_PER_YEAR

# new mechanisms go at the end, so existing streams keep their seeds
STREAMS = ("population", "national", "inspection", "decisions", "awards", "entry_exit",
           "subsidies", "mesa", "construction", "services")


def stream_seeds(seed: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``seed``, without consuming it: what ``seed.spawn(n)`` gives
    a fresh ``SeedSequence``, whatever was spawned from this object before, so the same
    object given twice gives the same run."""
    return [np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i),
                                   pool_size=seed.pool_size) for i in range(n)]


class QualityCityModel(mesa.Model):
    """One city from ``city.base_year`` (January) to the end of ``horizon.end_year``.

    Args:
        scenario: a validated :class:`~simcity_quality.scenario.Scenario`.
        seed: a ``numpy.random.SeedSequence`` (or an int to build one) for this replication;
            it is read, never spawned from, so the same object twice gives the same run.
        firms: number of industrial enterprises; overrides ``city.firms``. The whole city
            scales by ``firms / city.firms``: contractors, service firms, count levers
            (inspections, key projects, title quotas, demonstration titles) and campaign costs.
        track: ids of enterprises whose monthly history to keep (see :meth:`enterprise`).
        observer: an :class:`~.observer.Observer` told of each month's decisions and
            inspections (it only reads; the run is the same with or without it).
    """

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence | int = 0,
                 firms: int | None = None, track=(), observer: Observer | None = None):
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
        self.n_firms = simulated_firms(sc, firms)  # checked against the schema's bounds
        self.scale = self.n_firms / sc.city.firms
        self.years = list(range(sc.city.base_year, sc.horizon.end_year + 1))
        self.n_months = 12 * len(self.years)
        self.ledger = Ledger(self.years)
        self.targets = target_list(sc.targets)
        self._cod_coef = sector_cod_coefficients(sc)

        sq_rate = sc.status_quo.inspection.spot_checks_per_year * self.scale / self.n_firms
        self.pop: Population = create_population(sc, self.n_firms, self.streams["population"],
                                                 initial_belief=min(1.0, sq_rate))
        # counterfeiting at the start: the status-quo decision rule, drawn once
        p_cf = counterfeit_probability(self.pop, sc.levers_for(self.years[0]), sc)
        self.pop.counterfeit[:] = self.streams["population"].random(self.n_firms) < p_cf
        self._next_id = self.n_firms
        self._firm_tables = firm_tables(sc)
        self._parameters = ParameterCache(sc)  # the compiled rules' numbers, once a year
        self._brand_premium = np.array([0.0, *(getattr(sc.market.brand_premium, t)
                                               for t in TIERS[1:])])
        self._construction_ss = children[STREAMS.index("construction")]
        self.contractors = create_contractors(
            sc, int(round(sc.city.contractors * self.scale)),
            np.random.default_rng(self._construction_ss.spawn(1)[0]))
        # contractors' effort at the start: every one chooses once under the status quo
        n_con = self.contractors.size.shape[0]
        init_rng = np.random.default_rng(self._construction_ss.spawn(1)[0])
        choose_effort(self.contractors, sc.levers_for(self.years[0]), sc, np.zeros(n_con),
                      init_rng.gumbel(size=(len(EFFORTS), n_con)))
        self.service_firms = create_service_firms(
            sc, int(round(sc.city.service_firms * self.scale)), self.streams["services"])
        b = sc.behaviour
        self._demo_win_belief = b.initial_win_belief
        # beliefs' anchors: inspection rate seen per sector x tier (normal, watched)
        self._anchors = np.full((len(SECTORS), 2), min(1.0, sq_rate))
        # perceived chance that an application for each tier wins (index 0: no title)
        self._win_belief = np.full(len(TIERS), b.initial_win_belief)
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
        n = pop.n_slots

        # January: this year's key technical-upgrade projects (§3.4)
        # (streams used once a year draw only then: still the same numbers whatever the levers)
        if month == 1:
            select_key_projects(pop, lv, self.scale, rs["subsidies"].random(),
                                rs["subsidies"].standard_normal(n))

        # awareness campaigns (§4.5)
        if month in lv.campaigns.months:
            campaign(pop, sc, lv, year, self.scale, self.ledger)

        # firm decisions
        # who reviews: one uniform per slot; the reviewers' other uniforms derive from a key
        u_review = rs["decisions"].random(n)
        key = month_key(rs["decisions"])
        k_review = int(np.count_nonzero(u_review < sc.behaviour.decision_rate))
        p_dec, titles, p_prod = self._parameters.for_year(year)
        self.observer.before_decisions(self)
        dec = choose(pop, sc, lv, p_dec, titles, self._win_belief, u_review,
                     partial(derived_rows, key),
                     rs["decisions"].gumbel(size=(len(OPTIONS), k_review)), len(SECTORS))
        self.observer.after_decisions(self, dec)
        self.ledger.book(year, "city", "fee_waiver", dec.fee_waiver_yuan)
        self.counts["brand_applications"] += int(np.count_nonzero(
            dec.choice == OPTIONS.index("apply_title")))
        self.counts["key_projects_subsidised"] += int(np.count_nonzero(dec.subsidised))

        # production and finances
        produce(pop, lv, sc, year, p_prod, self._brand_premium, self._cod_coef, self.ledger)

        # national supervision spot checks (§2.2.1d), not steered by the city
        sampled, passed = national_spot_check(pop, t, sc, rs["national"].random(n),
                                              partial(derived_rows, month_key(rs["national"])))
        self.tallies.record_spot_checks(t, pop, sampled, passed)

        # the city's own inspections (§3.3, §4.4)
        self._inspection_carry += (lv.inspection.spot_checks_per_year * self.scale
                                   / MONTHS_PER_YEAR)
        k = int(np.floor(self._inspection_carry))
        self._inspection_carry -= k
        self.observer.before_inspections(self)
        out = city_inspection(pop, lv, sc, k, rs["inspection"].random(n),
                              partial(derived_rows, month_key(rs["inspection"])))
        self.observer.after_inspections(self, out)
        n_insp = int(np.count_nonzero(out.inspected))
        self.tallies.record_inspections(t, n_insp, int(np.count_nonzero(out.failed)))
        book_inspections(self.ledger, year, lv, out)
        self.counts["city_inspections"] += n_insp
        self.counts["criminal_referrals"] += out.referrals
        self._anchors = update_beliefs(pop, self._anchors, out.inspected, sc.behaviour)

        # December: the award round (§3.1, §4.2)
        if month == 12:
            res = award_titles(pop, lv, sc, year, self.scale, self.ledger,
                               rs["awards"].standard_normal((len(TIERS) - 1, n)),
                               rs["awards"].random(len(TIERS) - 1))
            for tier, won in res.won.items():
                self.counts[f"titles_won_{TIERS[tier]}"] += won
            learn_win_rates(self._win_belief, res, sc.behaviour.win_belief_learning)

        # interest subsidies on running key-project loans (§3.4)
        self.ledger.book(year, "city", "interest_subsidy", pay_subsidies(pop))

        self._exit_and_entry(lv, out)
        self._construction(t, lv, year)
        self._services(lv, year, month)
        self.current = self.tallies.measure(t, pop, self.contractors, self.service_firms,
                                            self.counts, self.ledger)
        self.record.collect(self.current)
        if self.tracked:
            self._record_tracked(t)

    # ------------------------------------------------------------------------------
    def _exit_and_entry(self, lv, out) -> None:
        sc, pop = self.scenario, self.pop
        rng = np.random.default_rng(self._entry_ss.spawn(1)[0])  # one child per month
        u = rng.random((2, pop.n_slots))
        free = exits(pop, out, u, self._parameters.exits, self.counts)
        if free.size == 0:
            return
        attrs = entrant_attributes(sc, free.size, rng, self._firm_tables, self.steps)
        self._next_id = admit(pop, lv, free, attrs, self._next_id, self._anchors, self.counts)

    def _construction(self, t: int, lv, year: int) -> None:
        """Contractors choose effort and complete works (§2.2.2)."""
        con = self.contractors
        n = con.size.shape[0]
        rng = np.random.default_rng(self._construction_ss.spawn(1)[0])  # one child per month
        choose_effort(con, lv, self.scenario, rng.random(n), rng.gumbel(size=(len(EFFORTS), n)))
        w = complete_works(con, lv, *draw_works(con, lv, self.scenario, rng))
        self.tallies.record_works(t, con.size, w)
        cl = lv.construction
        self.counts["works_completed"] += int(w.works.sum())
        self.counts["works_supervised"] += int(w.supervised.sum())
        self.ledger.book(year, "city", "construction_supervision",
                         cl.cost_per_supervised_work_yuan * float(w.supervised.sum()))
        self.ledger.book(year, "city", "construction_penalties",
                         -cl.failure_penalty_yuan * float(w.failed_all.sum()))
        self.ledger.book(year, "city", "reward_excellent_works",
                         cl.excellence_reward_yuan * float(w.excellent.sum()))

    def _services(self, lv, year: int, month: int) -> None:
        """Service firms adopt standards; December demonstration contests (§2.2.3, §3.2)."""
        firms, rs = self.service_firms, self.streams["services"]
        n = firms.size.shape[0]
        adopted, _ = adopt_standards(firms, lv, self.scenario, self._demo_win_belief,
                                     rs.random(n), partial(derived_rows, month_key(rs)))
        self.counts["service_adoptions"] += int(np.count_nonzero(adopted))
        self.ledger.book(year, "city", "service_standard_grant",
                         lv.services.standard_subsidy_yuan * int(np.count_nonzero(adopted)))
        if month == 12:
            contest = demonstration_contest(firms, lv, self.scenario, self.scale, rs.random(),
                                            rs.standard_normal(n), self._demo_win_belief)
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

    def summary(self) -> dict:
        """The last measured values (KPIs, counts, spending)."""
        return dict(self.current)


