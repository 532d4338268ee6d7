"""The city model: a ``mesa.Model`` stepping the whole enterprise population month by month.

One step is one month. The order within a month is fixed (docs/ODD.md, process overview):
levers in force -> January set-up (key projects) -> campaign -> firm decisions -> production and
finances -> national spot checks -> city inspections -> beliefs -> December award round ->
interest subsidies -> exit and entry -> construction works -> service firms -> measurement.

Random numbers: the replication's ``SeedSequence`` is split into one child stream per mechanism
(``STREAMS``); each draws full-population arrays every month whatever the levers, so two scenarios
run with the same seed share their random numbers (common random numbers).
"""

import mesa
import numpy as np
import pandas as pd

from . import kernels, kpis
from .behaviour import OPTIONS, choose, counterfeit_probability
from .columns import CUMULATIVE, REPORTED, TARGET_KPIS
from .construction import choose_effort, complete_works, create_contractors
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
from .population import (
    KEY_INDUSTRY_CODES,
    Population,
    create_population,
    draw_firms,
    firm_tables,
    sector_cod_coefficients,
)
from .record import MonthlyRecord
from .rng import month_key
from .scenario import EFFORTS, SECTORS, SERVICE_SECTORS, SIZES, TIERS, Scenario
from .services import adopt_standards, award_demonstrations, create_service_firms
from .targets import target_list

# new mechanisms go at the end, so existing streams keep their seeds
STREAMS = ("population", "national", "inspection", "decisions", "awards", "entry_exit",
           "subsidies", "mesa", "construction", "services")

# construction counts per month (trailing sums give the §2.2.2 KPIs)
WORK_COUNTS = ("works", "other", "failed", "excellent", "hidden")


class QualityCityModel(mesa.Model):
    """One city from ``city.base_year`` (January) to the end of ``horizon.end_year``.

    Args:
        scenario: a validated :class:`~simcity_quality.scenario.Scenario`.
        seed: a ``numpy.random.SeedSequence`` (or an int to build one) for this replication.
        firms: number of industrial enterprises; overrides ``city.firms``. The whole city
            scales by ``firms / city.firms``: contractors, service firms, count levers
            (inspections, key projects, title quotas, demonstration titles) and campaign costs.
        track: ids of enterprises whose monthly history to keep (see :meth:`enterprise`).
    """

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence | int = 0,
                 firms: int | None = None, track=()):
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        children = ss.spawn(len(STREAMS))
        super().__init__(rng=np.random.default_rng(children[STREAMS.index("mesa")]))
        self.seed_sequence = ss
        # entry/exit and construction spawn a fresh child of their stream each month: their
        # draws (entrants, Poisson counts) vary in number with the levers
        self.streams = {name: np.random.default_rng(child)
                        for name, child in zip(STREAMS, children, strict=True)
                        if name not in ("entry_exit", "construction")}
        self._entry_ss = children[STREAMS.index("entry_exit")]
        self.scenario = sc = scenario
        self.n_firms = int(firms if firms is not None else sc.city.firms)
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
        self._works = np.zeros((self.n_months, len(WORK_COUNTS), len(SIZES)))
        self._demo_win_belief = 0.05
        # beliefs' anchors: inspection rate seen per sector x tier (normal, watched)
        self._anchors = np.full((len(SECTORS), 2), min(1.0, sq_rate))
        self._win_belief = np.full(3, 0.05)  # perceived chance that an application wins
        self._inspection_carry = 0.0

        self.counts = dict.fromkeys(CUMULATIVE, 0)
        n = self.n_months
        self._spot = np.zeros((n, 2))  # sampled, passed per month
        self._spot_sector = np.zeros((n, 2, len(SECTORS)))
        self._spot_size = np.zeros((n, 2, len(SIZES)))
        self._city = np.zeros((n, 2))  # inspected, passed
        self._cod = np.zeros(n)  # industrial tonnes per month
        self._cod_sector = np.zeros((n, len(SECTORS)))
        self._cod_size = np.zeros((n, len(SIZES)))
        self._base_industrial_cod = None
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
        lv = sc.levers_for(year)
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
        dec = choose(pop, lv, sc, year, self._win_belief, u_review, key,
                     rs["decisions"].gumbel(size=(len(OPTIONS), k_review)), len(SECTORS))
        self.ledger.book(year, "city", "fee_waiver", dec.fee_waiver_yuan)
        self.counts["brand_applications"] += int(np.count_nonzero(
            dec.choice == OPTIONS.index("apply_title")))
        self.counts["key_projects_subsidised"] += int(np.count_nonzero(dec.subsidised))

        # production and finances
        self._produce(lv, year)

        # national supervision spot checks (§2.2.1d), not steered by the city
        sampled, passed = national_spot_check(pop, t, sc, rs["national"].random(n),
                                              month_key(rs["national"]))
        self._spot[t] = int(np.count_nonzero(sampled)), int(np.count_nonzero(passed))
        if kernels.ENABLED:
            kernels.class_counts(sampled, passed, pop.sector, pop.size, self._spot_sector[t],
                                 self._spot_size[t])
        else:
            for arr, codes, k in ((self._spot_sector, pop.sector, len(SECTORS)),
                                  (self._spot_size, pop.size, len(SIZES))):
                arr[t, 0] = np.bincount(codes, weights=sampled, minlength=k)
                arr[t, 1] = np.bincount(codes, weights=passed, minlength=k)

        # the city's own inspections (§3.3, §4.4)
        self._inspection_carry += lv.inspection.spot_checks_per_year * self.scale / 12.0
        k = int(np.floor(self._inspection_carry))
        self._inspection_carry -= k
        out = city_inspection(pop, lv, sc, k, rs["inspection"].random(n),
                              month_key(rs["inspection"]))
        n_insp = int(np.count_nonzero(out.inspected))
        self._city[t] = n_insp, n_insp - int(np.count_nonzero(out.failed))
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
        self._measure(t, lv)
        self.record.collect(self.current)
        if self.tracked:
            self._record_tracked(t)

    # ------------------------------------------------------------------------------
    def _produce(self, lv, year) -> None:
        sc, pop = self.scenario, self.pop
        m, b = sc.market, sc.behaviour
        alive = pop.alive
        if kernels.ENABLED:
            self._produce_compiled(lv, year)
            return
        pop.output *= (1.0 + sc.city.output_growth) ** (1 / 12)
        pop.capability += b.capability_drift / 12.0
        pop.discharge_ratio *= (1.0 + sc.environment.discharge_trend) ** (1 / 12)
        brand = self._brand_premium[pop.tier]
        share = (pop.margin + brand + m.intl_premium * pop.intl_std + m.iso_premium * pop.iso9001
                 + m.counterfeit_gain * pop.counterfeit)
        # procurement preference for branded products (§3.1)
        pref = lv.procurement.preference_share
        branded = alive & (pop.tier > 0)
        extra_sales = pref * m.government_purchase_share * m.procurement_sales_gain
        # preferred firms win extra government sales and are paid the price premium on them
        premium = (lv.procurement.price_premium * m.government_purchase_share
                   * (1.0 + m.procurement_sales_gain) * pref)
        share = share + np.where(branded, extra_sales * np.maximum(pop.margin, 0.0) + premium,
                                 0.0)
        gov_bought = float(pop.output.sum(where=branded)) * m.government_purchase_share * (
            1.0 + m.procurement_sales_gain) * pref
        self.ledger.book(year, "city", "procurement_preference",
                         lv.procurement.price_premium * gov_bought / 12.0 * 1e6)
        cod = kpis.cod_discharge(pop.output, self._cod_coef[pop.sector], pop.discharge_ratio)
        fee = sc.environment.discharge_fee_yuan_per_tonne * cod / 1e6
        pop.cash += np.where(alive, (share * pop.output - fee) / 12.0 - pop.debt_monthly, 0.0)
        paying = pop.debt_months_left > 0
        pop.debt_months_left[paying] -= 1
        pop.debt_monthly[pop.debt_months_left == 0] = 0.0

    def _produce_compiled(self, lv, year) -> None:
        """:meth:`_produce` through :func:`kernels.produce` (the same numbers)."""
        sc, pop = self.scenario, self.pop
        m, b = sc.market, sc.behaviour
        pref = lv.procurement.preference_share
        kernels.produce(
            pop.alive, pop.sector, pop.tier, pop.margin, pop.intl_std, pop.iso9001,
            pop.counterfeit, pop.output, pop.capability, pop.discharge_ratio, pop.cash,
            pop.debt_monthly, pop.debt_months_left, (1.0 + sc.city.output_growth) ** (1 / 12),
            b.capability_drift / 12.0, (1.0 + sc.environment.discharge_trend) ** (1 / 12),
            self._brand_premium,
            m.intl_premium, m.iso_premium, m.counterfeit_gain,
            pref * m.government_purchase_share * m.procurement_sales_gain,
            (lv.procurement.price_premium * m.government_purchase_share
             * (1.0 + m.procurement_sales_gain) * pref),
            self._cod_coef, sc.environment.discharge_fee_yuan_per_tonne)
        branded = pop.alive & (pop.tier > 0)
        gov_bought = float(pop.output.sum(where=branded)) * m.government_purchase_share * (
            1.0 + m.procurement_sales_gain) * pref
        self.ledger.book(year, "city", "procurement_preference",
                         lv.procurement.price_premium * gov_bought / 12.0 * 1e6)

    def _exit_and_entry(self, lv, out) -> None:
        sc, pop = self.scenario, self.pop
        rng = np.random.default_rng(self._entry_ss.spawn(1)[0])  # one child per month
        u = rng.random((2, pop.n_slots))
        if kernels.ENABLED:
            counts = np.zeros(4, dtype=np.int64)
            free = kernels.exits(
                pop.alive, pop.size, pop.credit, pop.output, pop.cash, out.revoked, out.closed,
                u[0], u[1], self._exit_hazard,
                sc.behaviour.entry_rate, pop.counterfeit, pop.watched, pop.key_project,
                pop.applying, pop.subsidy_months_left, pop.subsidy_monthly, pop.debt_monthly,
                pop.debt_months_left, counts)
            for name, c in zip(("licences_revoked", "closures_over_limit", "bankruptcies",
                                "exits"), counts, strict=True):
                self.counts[name] += int(c)
        else:
            free = self._exits(out, u)
        if free.size == 0:
            return
        self._entry(lv, free, rng)

    def _exits(self, out, u) -> np.ndarray:
        """Firms leave (revoked, closed, bankrupt or by the hazard); returns the free slots
        that draw an entrant (``u``: the month's two uniform rows)."""
        sc, pop = self.scenario, self.pop
        hazard = self._exit_hazard[pop.size]
        floor = np.where(pop.credit, -0.5, -0.1) * pop.output  # credit lets firms run deficits
        bankrupt = pop.alive & (pop.cash < floor)
        leaving = pop.alive & (out.revoked | out.closed | bankrupt | (u[0] < hazard))
        self.counts["licences_revoked"] += int(np.count_nonzero(pop.alive & out.revoked))
        self.counts["closures_over_limit"] += int(np.count_nonzero(
            pop.alive & out.closed & ~out.revoked))
        self.counts["bankruptcies"] += int(np.count_nonzero(
            bankrupt & ~out.revoked & ~out.closed))
        self.counts["exits"] += int(np.count_nonzero(leaving))
        gone = np.flatnonzero(leaving)
        if gone.size:
            pop.alive[gone] = False
            for name in ("counterfeit", "watched", "key_project", "applying",
                         "subsidy_months_left", "subsidy_monthly", "debt_monthly",
                         "debt_months_left"):
                getattr(pop, name)[gone] = 0

        return np.flatnonzero(~pop.alive & (u[1] < sc.behaviour.entry_rate))

    def _entry(self, lv, free, rng) -> None:
        """Entrants take the ``free`` slots (drawn from ``rng``, this month's child)."""
        sc, pop = self.scenario, self.pop
        attrs = draw_firms(sc, free.size, rng, sc.behaviour.entrant_capability_shift,
                           self._firm_tables)
        attrs["tier"][:] = 0  # entrants hold no titles
        # entrants come with the output level and discharge technology of their day
        years_on = self.steps / 12.0
        attrs["discharge_ratio"] *= (1.0 + sc.environment.discharge_trend) ** years_on
        attrs["output"] *= (1.0 + sc.city.output_growth) ** years_on
        attrs["cash"] = attrs["output"] * sc.city.cash_months / 12.0
        ok = np.ones(free.size, dtype=bool)
        if lv.permits.refuse_over_limit:  # §3.3: no permit over the discharge limit
            ok = attrs["discharge_ratio"] <= 1.0
            self.counts["permits_refused"] += int(np.count_nonzero(~ok))
        slots = free[ok]
        pop.write(slots, {k: v[ok] for k, v in attrs.items()})
        pop.id[slots] = np.arange(self._next_id, self._next_id + slots.size)
        self._next_id += slots.size
        pop.alive[slots] = True
        pop.problem_until[slots] = -1
        pop.clean_count[slots] = 0
        pop.belief[slots] = self._anchors[pop.sector[slots], 0]
        self.counts["entrants"] += int(slots.size)

    def _construction(self, t: int, lv, year: int) -> None:
        """Contractors choose effort and complete works (§2.2.2)."""
        con = self.contractors
        n = con.size.shape[0]
        rng = np.random.default_rng(self._construction_ss.spawn(1)[0])  # one child per month
        choose_effort(con, lv, self.scenario, rng.random(n), rng.gumbel(size=(len(EFFORTS), n)))
        w = complete_works(con, lv, self.scenario, rng)
        for i, name in enumerate(WORK_COUNTS):
            self._works[t, i] = np.bincount(con.size, weights=getattr(w, name),
                                            minlength=len(SIZES))
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
    def _measure(self, t: int, lv) -> None:
        sc, pop = self.scenario, self.pop
        alive = pop.alive
        year_index = t // 12
        pass_prob = pop.pass_probability(sc.behaviour.counterfeit_pass_factor)
        load = kpis.pollution_load(pop.output, self._cod_coef[pop.sector])
        cod = np.where(alive, load * pop.discharge_ratio, 0.0) / 12.0
        self._cod[t] = cod.sum()
        self._cod_sector[t] = np.bincount(pop.sector, weights=cod, minlength=len(SECTORS))
        self._cod_size[t] = np.bincount(pop.size, weights=cod, minlength=len(SIZES))

        lo = max(0, t - 11)
        spot = self._spot[lo:t + 1].sum(axis=0)
        city = self._city[lo:t + 1].sum(axis=0)
        c = {
            "intl_standard_share": kpis.intl_standard_share(pop.output, pop.intl_std, alive),
            "factory_pass_rate": kpis.factory_pass_rate(pop.output, pass_prob, alive),
            "spot_check_pass_rate": kpis.spot_check_pass_rate(spot[1], spot[0]),
            "key_industry_intl_level_share": kpis.key_industry_intl_level_share(
                pop.output, pop.sector, pop.intl_std, pass_prob, alive, KEY_INDUSTRY_CODES,
                sc.interpretation.intl_advanced_pass_probability),
            "pollution_compliance_rate": kpis.pollution_compliance_rate(
                pop.discharge_ratio, load, alive, sc.interpretation.pollution_compliance_weighting),
            "cod_reduction": self._cod_reduction(t),
            **self._construction_kpis(self._works[lo:t + 1].sum(axis=(0, 2))),
            "service_standard_share": kpis.service_standard_share(self.service_firms.standard),
            "city_inspection_pass_rate": kpis.spot_check_pass_rate(city[1], city[0]),
            "iso9001_share": kpis.share(pop.iso9001, alive),
            "ccc_share": kpis.share(pop.ccc, alive & pop.ccc_required),
            "counterfeiters_active": int(np.count_nonzero(alive & pop.counterfeit)),
            "firms_alive": int(np.count_nonzero(alive)),
            "cod_tonnes": float(self._cod[lo:t + 1].sum() * 12 / (t + 1 - lo)),
            "watched_firms": int(np.count_nonzero(alive & pop.watched)),
            "contractors_watched": int(np.count_nonzero(self.contractors.watched)),
            "contractors_cutting_corners": int(np.count_nonzero(
                self.contractors.effort == EFFORTS.index("cut_corners"))),
            "demonstration_units": int(np.count_nonzero(self.service_firms.demonstration)),
            "brand_service_projects": int(np.count_nonzero(self.service_firms.demonstration)),
        }
        for tier in (1, 2, 3):
            c[f"titles_held_{TIERS[tier]}"] = int(np.count_nonzero(alive & (pop.tier == tier)))
        c.update(self.counts)
        spent = self.ledger.amounts[: year_index + 1]
        c["spending_province"] = float(spent[:, 0].sum())
        c["spending_city"] = float(spent[:, 1].sum())
        c["spending_total"] = c["spending_province"] + c["spending_city"]
        self.current = c

    @staticmethod
    def _construction_kpis(counts: np.ndarray) -> dict[str, float]:
        """§2.2.2 KPIs from summed counts in WORK_COUNTS order."""
        works, other, failed, excellent, hidden = counts
        return {
            "construction_standard_share": kpis.construction_standard_share(works, hidden),
            "construction_acceptance_rate": kpis.construction_acceptance_rate(other, failed),
            "construction_excellence_rate": kpis.construction_excellence_rate(other, excellent),
        }

    def _year_cod(self, year: int, monthly: np.ndarray) -> np.ndarray:
        i = (year - self.years[0]) * 12
        return monthly[i:i + 12].sum(axis=0)

    def _cod_total(self, industrial: float, year: int) -> float:
        """COD in the scope of the target (interpretation.cod_scope)."""
        env = self.scenario.environment
        if self.scenario.interpretation.cod_scope == "industrial":
            return industrial
        if self._base_industrial_cod is None:
            self._base_industrial_cod = self._year_cod(self.years[0], self._cod)
        domestic = (self._base_industrial_cod * env.non_industrial_cod_ratio
                    * (1.0 + env.non_industrial_cod_trend) ** (year - self.years[0]))
        return industrial + domestic

    def _cod_reduction(self, t: int) -> float:
        base_year = self.scenario.cod_base_year
        base_end = (base_year - self.years[0]) * 12 + 11
        if t < base_end or t < 11:
            return float("nan")
        year = self.years[0] + t // 12
        base = self._cod_total(float(self._year_cod(base_year, self._cod)), base_year)
        now = self._cod_total(float(self._cod[t - 11:t + 1].sum()), year)
        return kpis.cod_reduction(now, base)

    # ------------------------------------------------------------------------------
    def breakdown(self) -> pd.DataFrame:
        """Each KPI by sector and by size class, now (long format): industrial enterprises by
        sector and size, contractors by grade, service firms by service sector and size
        (column ``population`` says which)."""
        sc, pop = self.scenario, self.pop
        t = self.steps - 1
        pass_prob = pop.pass_probability(sc.behaviour.counterfeit_pass_factor)
        load = kpis.pollution_load(pop.output, self._cod_coef[pop.sector])
        lo = max(0, t - 11)
        base_year = sc.cod_base_year
        base_ok = t >= (base_year - self.years[0]) * 12 + 11
        rows = []
        for group, codes, names, spot, cod in (
                ("sector", pop.sector, SECTORS, self._spot_sector, self._cod_sector),
                ("size", pop.size, SIZES, self._spot_size, self._cod_size)):
            sp = spot[lo:t + 1].sum(axis=0)
            cod_now = cod[lo:t + 1].sum(axis=0)
            cod_base = self._year_cod(base_year, cod)
            for code, name in enumerate(names):
                a = pop.alive & (codes == code)
                values = {
                    "intl_standard_share": kpis.intl_standard_share(pop.output, pop.intl_std, a),
                    "factory_pass_rate": kpis.factory_pass_rate(pop.output, pass_prob, a),
                    "spot_check_pass_rate": kpis.spot_check_pass_rate(sp[1, code], sp[0, code]),
                    "key_industry_intl_level_share": kpis.key_industry_intl_level_share(
                        pop.output, pop.sector, pop.intl_std, pass_prob, a, KEY_INDUSTRY_CODES,
                        sc.interpretation.intl_advanced_pass_probability),
                    "pollution_compliance_rate": kpis.pollution_compliance_rate(
                        pop.discharge_ratio, load, a,
                        sc.interpretation.pollution_compliance_weighting),
                    # industrial sources only: a sector's share of domestic COD is undefined
                    "cod_reduction": kpis.cod_reduction(cod_now[code], cod_base[code])
                    if base_ok else float("nan"),
                    "firms": int(a.sum()),
                }
                rows.extend({"population": "industry", "group_type": group, "group": name,
                             "kpi": k, "value": v} for k, v in values.items())
        # construction by contractor grade; services by service sector and size
        works = self._works[lo:t + 1].sum(axis=0)
        con, sf = self.contractors, self.service_firms

        def add(population, group_type, group, values):
            rows.extend({"population": population, "group_type": group_type, "group": group,
                         "kpi": k, "value": v} for k, v in values.items())

        for code, name in enumerate(SIZES):
            add("construction", "size", name, {**self._construction_kpis(works[:, code]),
                                               "contractors": int((con.size == code).sum())})
            add("services", "size", name, {
                "service_standard_share": kpis.service_standard_share(sf.standard,
                                                                      sf.size == code),
                "service_firms": int((sf.size == code).sum())})
        for code, name in enumerate(SERVICE_SECTORS):
            add("services", "sector", name, {
                "service_standard_share": kpis.service_standard_share(sf.standard,
                                                                      sf.sector == code),
                "service_firms": int((sf.sector == code).sum())})
        return pd.DataFrame(rows)

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


