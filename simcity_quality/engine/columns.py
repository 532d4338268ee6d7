"""The output columns both implementations report (engine ``model.py``, ``reference.py``)."""

from ..categories import TIERS
from ..targets import target_list

# KPI columns with a target, in the order of the target table
TARGET_KPIS = tuple(t.kpi for t in target_list())
# reported without thresholds
REPORTED = (
    "city_inspection_pass_rate", "city_inspections", "iso9001_share", "ccc_share",
    *(f"titles_held_{t}" for t in TIERS[1:]), *(f"titles_won_{t}" for t in TIERS[1:]),
    "brand_applications", "licences_revoked", "criminal_referrals", "counterfeiters_active",
    "permits_refused", "closures_over_limit", "bankruptcies", "exits", "entrants", "firms_alive",
    "key_projects_subsidised", "cod_tonnes", "domestic_cod_tonnes", "cod_cut_urban_treatment",
    "watched_firms",
    "works_completed", "works_supervised", "contractors_watched", "contractors_cutting_corners",
    "demonstration_units", "brand_service_projects", "service_adoptions",
    "quality_upgrades", "intl_standard_adoptions", "certifications", "abatements",
    # the title contests (docs/ODD.md §7.7)
    "title_recommendations", "titles_withdrawn", "titles_lapsed", "title_contenders",
    "contender_upgrades", "contender_intl_adoptions",
    "deadline_orders", "cod_cut_abatement", "cod_cut_closures", "cod_cut_trend",
    # the sanction ladder's steps (docs/ODD.md §7.5)
    "correction_orders", "public_notices", "suspensions",
)
# counts that accumulate from the base year (the rest of REPORTED are levels measured now)
CUMULATIVE = (
    "city_inspections", *(f"titles_won_{t}" for t in TIERS[1:]), "brand_applications",
    "licences_revoked", "criminal_referrals", "permits_refused", "closures_over_limit",
    "bankruptcies", "exits", "entrants", "key_projects_subsidised", "works_completed",
    "works_supervised", "service_adoptions",
    # firms making each investment (§7.2), so that the rates are outputs to report
    "quality_upgrades", "intl_standard_adoptions", "certifications", "abatements",
    "title_recommendations", "titles_withdrawn", "titles_lapsed", "contender_upgrades",
    "contender_intl_adoptions",
    # §3.3 deadline-treatment orders (firms), and the COD a year (t) taken off by abatement
    # investments, by closures over the limit and by the autonomous trend, each summed over the
    # months at the time it was taken off (docs/ODD.md §7.17)
    "deadline_orders", "cod_cut_abatement", "cod_cut_closures", "cod_cut_trend",
    # the ladder's correction orders, public notices and suspensions (firms; §7.5)
    "correction_orders", "public_notices", "suspensions",
)
