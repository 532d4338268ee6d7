"""The plan's 2012 targets: the one table that reports, notebooks and analysis all use.

Each row: id, plan section, KPI column, comparison, threshold, year, whether the plan itself
gives the number (``quantified_in_plan``), whether this version of the model computes the KPI
(``modelled``), the plan's wording in Chinese and English, and where the threshold comes from.
Where the plan is qualitative ("basically", "international advanced level") the threshold is
our documented reading; a scenario's ``[targets]`` table can override any threshold.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """One target of §2.2."""

    id: str
    section: str
    kpi: str
    comparison: str  # ">=" (every target so far is a floor)
    threshold: float
    year: int
    quantified_in_plan: bool
    modelled: bool
    wording_zh: str
    wording_en: str
    threshold_note: str

    def met(self, value: float) -> bool:
        """Whether ``value`` meets this target (NaN never does)."""
        if value != value:  # NaN
            return False
        return value >= self.threshold if self.comparison == ">=" else value <= self.threshold


_TARGETS = (
    Target("intl_standard_share", "§2.2.1b", "intl_standard_share", ">=", 0.60, 2012, True, True,
           "主要工业产品60%以上按国际标准或国外先进标准组织生产",
           "main industrial products made to international or advanced foreign standards",
           "plan: 60 %; measured as a share of industrial output"),
    Target("factory_pass_rate", "§2.2.1c", "factory_pass_rate", ">=", 0.90, 2012, True, True,
           "企业出厂产品质量合格率达90%以上", "firms' outgoing product pass rate",
           "plan: 90 %; output-weighted expected pass rate of products leaving the factory"),
    Target("spot_check_pass_rate", "§2.2.1d", "spot_check_pass_rate", ">=", 0.90, 2012, True, True,
           "国家监督抽查合格率稳定在90%以上", "national supervision spot-check pass rate",
           "plan: 90 %; pass rate of the national spot checks of the city's firms in the year"),
    Target("key_industry_intl_level_share", "§2.2.1e", "key_industry_intl_level_share", ">=",
           0.50, 2012, False, True,
           "重点行业的产品质量稳定性、安全性与可靠性达到国际先进水平",
           "key industries' product stability, safety and reliability at international "
           "advanced level",
           "reading: half of key-industry output on international standards at the pass "
           "probability set by interpretation.intl_advanced_pass_probability"),
    Target("construction_standard_share", "§2.2.2a", "construction_standard_share", ">=", 0.99,
           2012, True, True, "全市竣工工程质量全部达到国家标准或规范要求",
           "all completed construction works meet national standards",
           "plan: all; reading: 99 % (the tolerance on 'all' is a parameter)"),
    Target("construction_acceptance_rate", "§2.2.2b", "construction_acceptance_rate", ">=", 0.90,
           2012, True, True, "大中型工程建设项目以外的其他工程一次验收合格率达到90%以上",
           "one-time acceptance pass rate of works other than large and medium projects",
           "plan: 90 %"),
    Target("construction_excellence_rate", "§2.2.2c", "construction_excellence_rate", ">=", 0.50,
           2012, True, True, "优良率达到50%以上", "excellence rate of those works",
           "plan: 50 %"),
    Target("service_standard_share", "§2.2.3", "service_standard_share", ">=", 0.50, 2012, False,
           True, "制定和全面推行服务业质量标准",
           "service quality standards applied across the service sectors",
           "reading: half of service firms apply service standards (plan is qualitative)"),
    Target("pollution_compliance_rate", "§2.2.4a", "pollution_compliance_rate", ">=", 0.95, 2012,
           False, True, "全市工业污染源实现基本达标排放",
           "industrial pollution sources 'basically' meet discharge standards",
           "reading: 'basically' = 95 %, weighted as "
           "interpretation.pollution_compliance_weighting"),
    Target("cod_reduction", "§2.2.4b", "cod_reduction", ">=", 0.15, 2012, True, True,
           "COD排放量比年削减15%以上", "COD emissions cut against a base year (left blank)",
           "plan: 15 %; base year and scope are interpretation.cod_base_year and cod_scope"),
)

TARGET_IDS: tuple[str, ...] = tuple(t.id for t in _TARGETS)


@dataclass(frozen=True)
class PlainName:
    """A target in plain words, for charts and briefings: a short name in English and in
    Chinese, what the KPI is a share of (an axis label), and whether it is measured over the
    trailing twelve months (so its first eleven months rest on part of a window)."""

    en: str
    zh: str
    measure: str
    trailing_12_months: bool


PLAIN_NAMES: dict[str, PlainName] = {
    "intl_standard_share": PlainName(
        "Products made to international standards", "按国际标准组织生产",
        "% of industrial output", False),
    "factory_pass_rate": PlainName(
        "Factory pass rate", "出厂产品质量合格率", "% of output expected to pass", False),
    "spot_check_pass_rate": PlainName(
        "National spot-check pass rate", "国家监督抽查合格率", "% of samples, last 12 months",
        True),
    "key_industry_intl_level_share": PlainName(
        "Key industries at international level", "重点行业达到国际先进水平",
        "% of key-industry output", False),
    "construction_standard_share": PlainName(
        "Works meeting national standards", "竣工工程达到国家标准",
        "% of works completed, last 12 months", True),
    "construction_acceptance_rate": PlainName(
        "Works passing acceptance first time", "工程一次验收合格率",
        "% of other works, last 12 months", True),
    "construction_excellence_rate": PlainName(
        "Works rated excellent", "工程优良率", "% of other works, last 12 months", True),
    "service_standard_share": PlainName(
        "Service firms applying quality standards", "服务业推行质量标准", "% of service firms",
        False),
    "pollution_compliance_rate": PlainName(
        "Pollution sources within discharge standards", "工业污染源达标排放",
        "% of industrial sources", False),
    "cod_reduction": PlainName(
        "COD emissions cut", "COD排放量削减", "% below the base year, last 12 months", True),
}


def plain_name(target_id: str) -> PlainName:
    """The plain-language name of a target (:data:`PLAIN_NAMES`); ``all_quantified``, the
    row meeting every target the plan quantifies, has one too."""
    if target_id == "all_quantified":
        return PlainName("Every target the plan quantifies", "规划量化的全部指标",
                         "% of replications", False)
    return PLAIN_NAMES[target_id]


def targets_table(overrides: dict[str, float] | None = None):
    """The target table as a pandas DataFrame, with a scenario's threshold overrides applied."""
    import pandas as pd  # here, not at the top: the command line starts without pandas

    overrides = overrides or {}
    rows = []
    for t in _TARGETS:
        row = t.__dict__.copy()
        if t.id in overrides:
            row["threshold"] = float(overrides[t.id])
            row["threshold_note"] = f"scenario override (default {t.threshold:g}); " \
                                    + t.threshold_note
        rows.append(row)
    return pd.DataFrame(rows)


def target_list(overrides: dict[str, float] | None = None) -> list[Target]:
    """The targets as objects, with overrides applied."""
    overrides = overrides or {}
    return [Target(**{**t.__dict__, "threshold": float(overrides.get(t.id, t.threshold))})
            for t in _TARGETS]


def __getattr__(name: str):
    """``TARGETS``: the target table as a DataFrame, built on first use (PEP 562)."""
    if name == "TARGETS":
        globals()["TARGETS"] = table = targets_table()
        return table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
