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

import mesa
import numpy as np
import pandas as pd

from ..categories import EFFORTS, OPTIONS, SECTORS, SIZES, TIERS
from ..scenario import Scenario, simulated_firms
from ..targets import target_list
from . import kpis
from .behaviour import choose, counterfeit_probability
from .columns import CUMULATIVE, REPORTED, TARGET_KPIS
from .construction import choose_effort, complete_works, create_contractors
from .demography import enter, exits
from .finance import produce
from .government import (
    award_titles,
    choose_key_projects,
    city_inspection,
    national_spot_check,
    pay_subsidies,
    stochastic_round,
    update_beliefs,
)
from .ledger import Ledger
from .measurement import Tallies
from .observer import Observer
from .population import Population, create_population, firm_tables, sector_cod_coefficients
from .record import MonthlyRecord
from .rng import month_key
from .services import adopt_standards, award_demonstrations, create_service_firms

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
        # per-tier brand premium and per-size exit hazard: fixed for the run, built once
        self._brand_premium = np.array([0.0, *(getattr(sc.market.brand_premium, t)
                                               for t in TIERS[1:])])
        self._exit_hazard = np.array([getattr(sc.behaviour.exit_hazard, s) for s in SIZES])
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
        self._demo_win_belief = 0.05
        # beliefs' anchors: inspection rate seen per sector x tier (normal, watched)
        self._anchors = np.full((len(SECTORS), 2), min(1.0, sq_rate))
        self._win_belief = np.full(3, 0.05)  # perceived chance that an application wins
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
            k = stochastic_round(lv.subsidy.key_projects_per_year * self.scale,
                                 rs["subsidies"].random())
            choose_key_projects(pop, k, rs["subsidies"].standard_normal(n))

        # awareness campaigns (§4.5)
        if month in lv.campaigns.months:
            pop.belief += sc.behaviour.campaign_belief_boost * (1.0 - pop.belief)
            self.ledger.book(year, "city", "campaign_cost",
                             lv.campaigns.cost_per_campaign_yuan * self.scale)

        # firm decisions
        # who reviews: one uniform per slot; the reviewers' other uniforms derive from a key
        u_review = rs["decisions"].random(n)
        key = month_key(rs["decisions"])
        k_review = int(np.count_nonzero(u_review < sc.behaviour.decision_rate))
        self.observer.before_decisions(self)
        dec = choose(pop, lv, sc, year, self._win_belief, u_review, key,
                     rs["decisions"].gumbel(size=(len(OPTIONS), k_review)), len(SECTORS))
        self.observer.after_decisions(self, dec)
        self.ledger.book(year, "city", "fee_waiver", dec.fee_waiver_yuan)
        self.counts["brand_applications"] += int(np.count_nonzero(
            dec.choice == OPTIONS.index("apply_title")))
        self.counts["key_projects_subsidised"] += int(np.count_nonzero(dec.subsidised))

        # production and finances
        produce(pop, lv, sc, year, self._brand_premium, self._cod_coef, self.ledger)

        # national supervision spot checks (§2.2.1d), not steered by the city
        sampled, passed = national_spot_check(pop, t, sc, rs["national"].random(n),
                                              month_key(rs["national"]))
        self.tallies.record_spot_checks(t, pop, sampled, passed)

        # the city's own inspections (§3.3, §4.4)
        self._inspection_carry += lv.inspection.spot_checks_per_year * self.scale / 12.0
        k = int(np.floor(self._inspection_carry))
        self._inspection_carry -= k
        self.observer.before_inspections(self)
        out = city_inspection(pop, lv, sc, k, rs["inspection"].random(n),
                              month_key(rs["inspection"]))
        self.observer.after_inspections(self, out)
        n_insp = int(np.count_nonzero(out.inspected))
        self.tallies.record_inspections(t, n_insp, int(np.count_nonzero(out.failed)))
        self.ledger.book(year, "city", "inspection_cost",
                         n_insp * lv.inspection.cost_per_inspection_yuan)
        self.ledger.book(year, "city", "fines_collected", -out.fines_yuan)
        self.counts["city_inspections"] += n_insp
        self.counts["criminal_referrals"] += out.referrals
        self._anchors = update_beliefs(pop, self._anchors, out.inspected, sc.behaviour)

        # December: the award round (§3.1, §4.2)
        if month == 12:
            res = award_titles(pop, lv, sc, year, self.scale, self.ledger,
                               rs["awards"].standard_normal((3, n)), rs["awards"].random(3))
            for tier, (applied, won) in res.items():
                self.counts[f"titles_won_{TIERS[tier]}"] += won
                if applied:
                    self._win_belief[tier - 1] += 0.5 * (won / applied
                                                         - self._win_belief[tier - 1])

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
        free = exits(pop, sc, out, u, self._exit_hazard, self.counts)
        if free.size == 0:
            return
        self._next_id = enter(pop, sc, lv, free, rng, self._firm_tables, self.steps,
                              self._next_id, self._anchors, self.counts)

    def _construction(self, t: int, lv, year: int) -> None:
        """Contractors choose effort and complete works (§2.2.2)."""
        con = self.contractors
        n = con.size.shape[0]
        rng = np.random.default_rng(self._construction_ss.spawn(1)[0])  # one child per month
        choose_effort(con, lv, self.scenario, rng.random(n), rng.gumbel(size=(len(EFFORTS), n)))
        w = complete_works(con, lv, self.scenario, rng)
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
        adopted = adopt_standards(firms, lv, self.scenario, self._demo_win_belief,
                                  rs.random(n), month_key(rs))
        self.counts["service_adoptions"] += int(np.count_nonzero(adopted))
        self.ledger.book(year, "city", "service_standard_grant",
                         lv.services.standard_subsidy_yuan * int(np.count_nonzero(adopted)))
        if month == 12:
            k = stochastic_round(lv.services.demonstration_titles_per_year * self.scale,
                                 rs.random())
            winners, eligible = award_demonstrations(firms, k, rs.standard_normal(n),
                                                     self.scenario.services.judging_noise)
            self.ledger.book(year, "city", "reward_service_demonstration",
                             lv.services.demonstration_reward_yuan * winners.size)
            if eligible:
                self._demo_win_belief += 0.5 * (winners.size / eligible - self._demo_win_belief)

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


