"""Mutation check of the rule-level tests: does a one-sided change to a rule fail a test?

For each mechanism, every rule function of the engine and every rule method of the Mesa
reference is perturbed, one change at a time, on one side only:

- **drop a term**: each operand of each ``+`` or ``-`` is removed in turn (``a + b`` becomes
  ``a`` and ``b``; ``a - b`` becomes ``a`` and ``-b``);
- **flip a comparison**: ``<`` becomes ``>=``, ``<=`` becomes ``>``, ``==`` becomes ``!=``,
  ``in`` becomes ``not in``, ``is`` becomes ``is not`` (and back);
- **scale a parameter**: each read of a numeric scenario parameter (``p.upgrade_gain``,
  ``lv.inspection.fine_yuan``, a per-tier or per-size table entry) is multiplied by 1.1.

The mechanism's rule-level tests (``tests/rules/``) then run against the perturbed code, in a
forked child of this process (the package, the scenario and the tests are imported once;
numba's ``NUMBA_DISABLE_JIT=1`` runs the compiled rules as Python, so no mutant is compiled).
A perturbation *survives* when every test still passes. The check passes with zero survivors.

Usage: ``python benchmarks/mutation_check.py [--mechanism NAME] [--jobs N] [--out FILE]``
(``--out docs/testing.md`` rewrites the table there). ``tests/rules/test_mutation_check.py``
runs it as a slow test.
"""

import os

os.environ["NUMBA_DISABLE_JIT"] = "1"  # before anything imports numba

import argparse  # noqa: E402
import ast  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RULE_TESTS = ROOT / "tests" / "rules"
sys.path.insert(0, str(RULE_TESTS))

import pydantic  # noqa: E402

from simcity_quality.scenario import Scenario  # noqa: E402

E, R = "simcity_quality.engine.", "simcity_quality.reference.model"
# mechanism -> (engine functions, reference methods, rule tests)
MECHANISMS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "counterfeit choice": (
        [E + "behaviour:perceived_penalty_of", E + "behaviour:counterfeit_utility_of",
         E + "behaviour:_counterfeit_probabilities", E + "behaviour:grade_stake_of",
         E + "behaviour:grade_loss", E + "behaviour:procurement_gain",
         E + "behaviour:title_gain", E + "behaviour:key_project_gain"],
        [R + ":Enterprise.perceived_penalty", R + ":Enterprise.counterfeit_probability",
         R + ":Enterprise.grade_stake", R + ":Enterprise.grade_loss",
         R + ":Enterprise.procurement_gain", R + ":Enterprise.title_gain",
         R + ":Enterprise.key_project_gain"],
        ["test_decisions:test_counterfeit_probability_and_penalty_agree",
         "test_decisions:test_counterfeit_probability_by_hand",
         "test_decisions:test_the_grade_at_stake_weighs_on_counterfeiting_alike",
         "test_decisions:test_the_procurement_preference_a_worse_grade_forgoes_weighs_alike",
         "test_decisions:test_the_title_and_key_project_gates_a_worse_grade_closes_weigh_alike",
         "test_decisions:test_the_gates_yearly_values_by_hand",
         "test_decisions:test_a_firm_whose_grade_keeps_its_title_prospect_counterfeits_less_and_upgrades_more"]),
    "investment choice": (
        [E + "behaviour:_loan_share", E + "behaviour:_key_project_subsidy",
         E + "behaviour:_is_subsidised_project", E + "behaviour:_upgrade_loan_share",
         E + "behaviour:investment_utilities", E + "behaviour:_borrow_and_pay",
         E + "behaviour:_carry_out", E + "behaviour:decide", E + "behaviour:sector_pull",
         E + "behaviour:_sector_firms", E + "behaviour:choose", E + "behaviour:affordable",
         E + "behaviour:by_value", E + "behaviour:upgrade_grade_value",
         E + "behaviour:failure_cost", E + "behaviour:title_prize"],
        [R + ":Enterprise.decide", R + ":Enterprise.carry_out", R + ":Enterprise.borrow_and_pay",
         R + ":Enterprise.upgrade_grade_value", R + ":Enterprise.failure_cost",
         R + ":Enterprise.title_prize",
         R + ":ReferenceCityModel.firm_decisions", R + ":ReferenceCityModel.sector_shares"],
        ["test_decisions:test_investment_utilities_choices_and_effects_agree",
         "test_decisions:test_investments_do_not_crowd_each_other_out_except_through_cash",
         "test_decisions:test_a_later_investment_is_made_only_if_the_cash_left_pays_for_it",
         "test_subsidies_and_fees:test_a_subsidised_project_costs_the_firm_less",
         "test_subsidies_and_fees:test_a_diverted_subsidy_leaves_the_firms_own_upgrade",
         "test_subsidies_and_fees:test_selection_brings_a_loan_only_where_the_scenario_says_so",
         "test_decisions:test_own_score_beliefs_agree",
         "test_permits:test_the_abatement_investment_by_hand",
         "test_permits:test_a_source_under_an_order_reconsiders_abatement_alone_between_its_reviews",
         "test_decisions:test_the_grade_kept_weighs_on_the_upgrade_alike",
         "test_decisions:test_decisions_with_learnt_grade_values_agree",
         "test_decisions:test_the_procurement_preference_a_worse_grade_forgoes_weighs_alike",
         "test_decisions:test_a_missing_ccc_is_worth_what_a_failure_costs_on_the_firms_step",
         "test_decisions:test_the_reference_counts_what_contenders_invest_in",
         "test_decisions:test_the_title_and_key_project_gates_a_worse_grade_closes_weigh_alike",
         "test_decisions:test_the_gates_yearly_values_by_hand",
         "test_decisions:test_a_firm_whose_grade_keeps_its_title_prospect_counterfeits_less_and_upgrades_more",
         "test_government:test_a_closed_tier_takes_no_application_wins_nothing_and_lets_titles_lapse"]),
    "urban wastewater treatment (outside the plan)": (
        [E + "wastewater:plants_running", E + "wastewater:plant_capacity_tonnes",
         E + "wastewater:treatment_cost_yuan", E + "wastewater:domestic_cod"],
        [R + ":ReferenceCityModel.plants_running", R + ":ReferenceCityModel.plant_tonnes",
         R + ":ReferenceCityModel.domestic"],
        ["test_wastewater:test_plants_and_domestic_cod_by_hand_and_alike",
         "test_wastewater:test_the_city_pays_a_month_of_its_plants_alike"]),
    "source review, deadlines and closure; discharge standards": (
        [E + "government:review_sources", E + "government:_review_sources",
         E + "government:tighten_standards",
         E + "government:book_source_review"],
        [R + ":Enterprise.undergo_review", R + ":ReferenceCityModel.review_sources",
         R + ":ReferenceCityModel.tighten_standards"],
        ["test_permits:test_source_review_deadlines_and_closure_agree",
         "test_permits:test_a_source_over_its_limit_is_fined_ordered_and_then_closed_by_hand",
         "test_permits:test_standards_tighten_alike_and_by_sector"]),
    "national spot checks": (
        [E + "government:national_sampling_weight", E + "government:_sampling_weights",
         E + "government:national_sampling_chance",
         E + "government:_firms_weighted", E + "government:_capped_chances",
         E + "government:national_spot_check", E + "government:_mark_single_sampled",
         E + "government:regrade_national", E + "government:_lower_grades",
         E + "government:count_moves", E + "government:count_move",
         E + "government:_count_all_moves"],
        [R + ":Enterprise.sampling_weight", R + ":Enterprise.face_national_check",
         R + ":ReferenceCityModel.national_spot_checks"],
        ["test_government:test_national_spot_checks_agree",
         "test_government:test_a_failed_national_check_lowers_the_grade"]),
    "city inspection and its outcome, grades and the sanction ladder": (
        [E + "government:choose_inspected", E + "government:_by_grade",
         E + "government:_eligible_by_grade",
         E + "government:grade_quotas",
         E + "government:regrade", E + "government:regraded", E + "government:_regrade_all",
         E + "government:ladder_step", E + "government:_inspect",
         E + "government:inspection_rules",
         E + "government:count_moves", E + "government:count_move",
         E + "government:_count_all_moves", E + "government:grade_values",
         E + "government:city_inspection", E + "government:book_inspections",
         E + "model:QualityCityModel._learn_grade_values"],
        [R + ":ReferenceCityModel.choose_inspected", R + ":ReferenceCityModel.city_inspections",
         R + ":Enterprise.undergo_inspection", R + ":ReferenceCityModel.grade_values",
         R + ":ReferenceCityModel.learn_grade_values", R + ":ReferenceCityModel.years_beyond"],
        ["test_government:test_city_inspections_and_their_outcome_agree",
         "test_government:test_the_inspections_fines_go_to_the_treasury_the_interpretation_names",
         "test_resolution:test_inspections_are_of_single_firms",
         "test_government:test_the_quality_files_grades_move_alike_over_months",
         "test_government:test_grade_quotas_by_hand",
         "test_government:test_regrade_by_hand",
         "test_government:test_the_sanction_ladder_by_hand",
         "test_government:test_graded_inspection_shares_the_budget_by_grade",
         "test_government:test_a_failed_national_check_lowers_the_grade",
         "test_government:test_grades_gate_titles_and_key_projects",
         "test_government:test_grade_values_by_hand_and_alike",
         "test_government:test_the_years_beyond_the_title_and_key_project_grades_are_learnt_alike"]),
    "beliefs": (
        [E + "government:update_beliefs", E + "government:_firms_seen",
         E + "government:_drift_beliefs", E + "government:campaign"],
        [R + ":ReferenceCityModel.update_beliefs", R + ":Enterprise.update_belief",
         R + ":ReferenceCityModel.run_campaign"],
        ["test_government:test_beliefs_and_campaigns_agree"]),
    "title awards": (
        [E + "government:award_titles", E + "government:learn_win_rates",
         E + "government:judging_base"],
        [R + ":ReferenceCityModel.award_round", R + ":Enterprise.judging_base"],
        ["test_government:test_award_round_and_win_beliefs_agree",
         "test_government:test_the_reference_draws_its_own_noise_by_default",
         "test_government:test_cutoff_judging_agrees_and_passes_only_recommended_candidates_at_the_bar",
         "test_government:test_a_higher_bar_or_fewer_recommendations_win_fewer_titles_and_better_firms_more",
         "test_government:test_an_agent_standing_for_several_firms_is_recommended_and_judged_member_by_member",
         "test_government:test_a_closed_tier_takes_no_application_wins_nothing_and_lets_titles_lapse"]),
    "the field's cut-off, open rounds and contenders": (
        [E + "government:field_cutoffs", E + "government:year_cutoffs",
         E + "government:title_contenders", E + "government:_contender_capability",
         E + "government:_near_the_bar", E + "parameters:open_rounds",
         E + "behaviour:investments_made"],
        [R + ":ReferenceCityModel.field_cutoffs", R + ":ReferenceCityModel.round_open",
         R + ":Enterprise.is_contender"],
        ["test_government:test_the_field_cutoff_passes_the_base_year_candidate_at_the_field_rate",
         "test_government:test_a_closed_tier_takes_no_application_wins_nothing_and_lets_titles_lapse",
         "test_government:test_contenders_are_eligible_or_one_upgrade_short_within_one_noise_of_the_bar",
         "test_decisions:test_the_reference_counts_what_contenders_invest_in"]),
    "title validity, eligibility and the belief rule": (
        [E + "government:title_eligible", E + "government:_title_conditions",
         E + "government:in_good_standing", E + "government:eligible_at",
         E + "government:_title_eligible_all", E + "government:review_titles",
         E + "government:_review_titles",
         E + "government:held_title_expiry", E + "government:record_cutoffs",
         E + "behaviour:win_chance", E + "behaviour:win_chance_of"],
        [R + ":Enterprise.win_chance", R + ":Enterprise.eligible_for",
         R + ":Enterprise.meets_other_conditions", R + ":Enterprise.meets_record_conditions",
         R + ":Enterprise.lose_title",
         R + ":ReferenceCityModel.review_titles"],
        ["test_government:test_titles_withdrawn_lapsed_and_renewed_agree",
         "test_government:test_a_title_lapses_36_months_after_its_round_if_no_longer_eligible",
         "test_government:test_a_failed_national_spot_check_or_counterfeit_found_withdraws_a_title",
         "test_government:test_eligibility_reads_the_three_year_spot_check_record_and_certification",
         "test_government:test_titles_held_at_the_start_are_reexamined_within_their_validity",
         "test_government:test_a_closed_tier_takes_no_application_wins_nothing_and_lets_titles_lapse",
         "test_decisions:test_own_score_beliefs_agree",
         "test_decisions:test_under_own_score_a_firm_just_below_the_cutoff_values_an_upgrade_most",
         "test_decisions:test_own_score_win_chance_by_hand",
         "test_government:test_award_round_and_win_beliefs_agree",
         "test_decisions:test_the_title_and_key_project_gates_a_worse_grade_closes_weigh_alike",
         "test_decisions:test_the_gates_yearly_values_by_hand"]),
    "key projects and subsidies": (
        [E + "government:select_key_projects",
         E + "government:pay_subsidies"],
        [R + ":ReferenceCityModel.select_key_projects", R + ":Enterprise.receive_interest_subsidy",
         R + ":ReferenceCityModel.pay_interest_subsidies"],
        ["test_government:test_key_projects_and_interest_subsidies_agree",
         "test_government:test_the_reference_draws_its_own_noise_by_default",
         # the month's payments also book the treatment plants (outside the plan)
         "test_wastewater:test_the_city_pays_a_month_of_its_plants_alike"]),
    "production and finances": (
        [E + "finance:produce_month", E + "finance:produce", E + "finance:preferred_sales_gain",
         E + "parameters:procurement_rates"],
        [R + ":Enterprise.produce", R + ":ReferenceCityModel.production",
         R + ":Enterprise.preferred_sales_gain",
         R + ":ReferenceCityModel.procurement_premium_rate"],
        ["test_firms:test_production_and_finances_agree", "test_firms:test_production_by_hand",
         "test_subsidies_and_fees:test_a_waived_fee_lowers_the_firms_costs_and_the_city_pays_it",
         "test_firms:test_the_reference_counts_what_the_trend_takes_off",
         "test_firms:test_procurement_prefers_only_holders_whose_grade_it_admits"]),
    "exits and entry": (
        [E + "demography:leave", E + "demography:_hazards", E + "demography:exits",
         E + "demography:admit", E + "demography:_permitted", E + "demography:_settle",
         E + "demography:thin_entrants", E + "demography:_thin"],
        [R + ":Enterprise.consider_exit", R + ":ReferenceCityModel.admit_entrant"],
        ["test_firms:test_exits_agree", "test_firms:test_entry_agrees",
         "test_resolution:test_a_weighted_agent_exits_member_by_member",
         "test_resolution:test_entrants_at_a_resolution"]),
    "contractors' effort and works": (
        [E + "construction:supervision_share", E + "construction:_tables",
         E + "construction:construction_rules",
         E + "construction:_share_followed", E + "construction:_shares_followed",
         E + "construction:_work_outcome", E + "construction:_defect_odds",
         E + "construction:outcome_probabilities", E + "construction:_outcome_chances",
         E + "construction:choose_effort", E + "construction:_choose_efforts",
         E + "construction:complete_works", E + "construction:_complete_works"],
        [R + ":Contractor.supervision_share", R + ":Contractor.outcome_probabilities",
         R + ":Contractor.choose_effort", R + ":Contractor.complete_works"],
        ["test_construction_services:test_work_outcome_chances_agree",
         "test_construction_services:test_contractors_effort_choice_agrees",
         "test_construction_services:test_completed_works_and_the_contractors_file_agree"]),
    "service adoption and contests": (
        [E + "services:adopt_standards", E + "services:_adoption_utilities",
         E + "services:demonstration_contest"],
        [R + ":ServiceFirm.consider_standards", R + ":ReferenceCityModel.service_standards",
         R + ":ReferenceCityModel.demonstration_contest"],
        ["test_construction_services:test_service_standard_adoption_agrees",
         "test_construction_services:test_demonstration_contest_agrees",
         "test_construction_services:test_the_contest_is_held_in_december_only"]),
    "quality file": (
        [E + "quality_file:new_month", E + "quality_file:record", E + "quality_file:within",
         E + "quality_file:within_mask",
         E + "quality_file:events"],
        [R + ":Enterprise.age_file", R + ":Enterprise.record"],
        ["test_government:test_the_quality_file_ages_alike_and_keeps_64_months",
         "test_government:test_national_spot_checks_agree",
         "test_government:test_city_inspections_and_their_outcome_agree",
         "test_government:test_award_round_and_win_beliefs_agree"]),
    # the engine's alone: the reference simulates every firm one agent each
    "resolution: weighted agents and their members": (
        [E + "resolution:members", E + "resolution:_members", E + "resolution:count_by_owner",
         E + "resolution:split",
         E + "resolution:free_slots", E + "resolution:thinning", E + "resolution:mean_weights",
         E + "resolution:top_members", E + "resolution:_one_member_each",
         E + "resolution:_best_values", E + "resolution:_drawn_agents",
         E + "resolution:best_by_value",
         E + "resolution:members_reaching",
         E + "resolution:binomial_members", E + "resolution:_single_members",
         E + "government:best_member_score"],
        [],
        ["test_resolution:test_members_and_their_codes",
         "test_resolution:test_split_keeps_every_firm_and_its_state",
         "test_resolution:test_free_slots_grow_the_arrays_when_needed",
         "test_resolution:test_thinning_keeps_the_individual_firms_and_each_size_class_total",
         "test_resolution:test_top_members_are_the_best_of_all_members",
         "test_resolution:test_top_members_of_agents_of_one_firm_are_the_best_values_ties_to_the_lower_slot",
         "test_resolution:test_split_of_weighted_agents_drawn_once_and_of_single_firms",
         "test_resolution:test_a_weighted_agent_wins_as_often_as_the_firms_it_stands_for",
         "test_resolution:test_best_member_score_is_the_top_members_score",
         "test_resolution:test_binomial_members",
         "test_resolution:test_best_by_value_takes_whole_agents_then_part_of_the_next",
         "test_resolution:test_members_reaching_a_floor_draw_their_own_noise"]),
}

FLIPS = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.Eq: ast.NotEq,
         ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
         ast.IsNot: ast.Is}


def _numeric_parameters(model: type[pydantic.BaseModel] = Scenario) -> tuple[set, set]:
    """Names of the numeric scenario parameters (leaves) and of per-group tables (by size,
    tier, effort), as rules read them (``p.upgrade_gain``, ``p.brand_premium[t]``)."""
    leaves, groups = set(), set()
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, pydantic.BaseModel):
            sub_leaves, sub_groups = _numeric_parameters(ann)
            if (field.json_schema_extra or {}).get("group"):
                member = next(iter(ann.model_fields.values())).annotation
                if member in (int, float):  # flags (true/false per tier) are not scaled
                    groups.add(name)
            else:
                leaves |= sub_leaves
                groups |= sub_groups
        elif ann in (int, float):
            leaves.add(name)
    return leaves, groups


LEAVES, GROUPS = _numeric_parameters()
# what the engine's parameter records call a parameter they carry under another name
LEAVES |= {f for cls_name in ("DecisionParameters", "ProductionParameters", "ExitParameters")
           for f, kind in getattr(importlib.import_module("simcity_quality.engine.parameters"),
                                  cls_name).__annotations__.items()
           # flags, grade indices and the quality file's bit masks are not scaled
           if kind is not bool and not f.endswith(("max_grade", "_mask"))}
GROUPS |= {f for f in importlib.import_module("simcity_quality.engine.parameters")
           .TitleTable._fields if f not in ("iso_required", "open_round")} | {"exit_hazard"}
# (flags per tier, iso_required and open_round, are not scaled)


@dataclass
class Mutant:
    mechanism: str
    side: str  # engine or reference
    target: str  # module:qualname
    kind: str  # drop, flip, scale
    line: int
    description: str
    tree: ast.AST  # the mutated function definition


class _Sites(ast.NodeVisitor):
    """Every mutable node of a function, in source order (found by position, not identity,
    so each mutant is made on a fresh copy of the tree)."""

    def __init__(self):
        self.sites = []
        self.parents = {}

    def generic_visit(self, node):
        for child in ast.iter_child_nodes(node):
            self.parents[child] = node
        super().generic_visit(node)

    def visit_BinOp(self, node):  # noqa: N802 - ast visitor
        if isinstance(node.op, ast.Add | ast.Sub):
            self.sites += [("drop", node, "left"), ("drop", node, "right")]
        self.generic_visit(node)

    def visit_Compare(self, node):  # noqa: N802
        for i, op in enumerate(node.ops):
            if type(op) in FLIPS:
                self.sites.append(("flip", node, i))
        self.generic_visit(node)

    def visit_Attribute(self, node):  # noqa: N802
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and node.attr in LEAVES:
            self.sites.append(("scale", node, None))

    def visit_Subscript(self, node):  # noqa: N802
        self.generic_visit(node)
        if (isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Attribute)
                and node.value.attr in GROUPS):
            self.sites.append(("scale", node, None))


def _function_source(target: str) -> tuple[ast.FunctionDef, object, str]:
    module_name, qualname = target.split(":")
    module = importlib.import_module(module_name)
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    fn = getattr(obj, "py_func", obj)  # a numba dispatcher keeps the Python function
    source = textwrap.dedent(inspect.getsource(fn))
    return ast.parse(source).body[0], module, qualname


def _mutate(tree: ast.AST, index: int) -> tuple[ast.AST, str, int]:
    """A copy of ``tree`` with its ``index``-th site changed; (tree, description, line)."""
    copy = ast.parse(ast.unparse(tree)).body[0]
    finder = _Sites()
    finder.visit(copy)
    kind, node, detail = finder.sites[index]
    parent = finder.parents[node]
    before = ast.unparse(node)
    if kind == "drop":
        keep = node.right if detail == "left" else node.left
        if detail == "left" and isinstance(node.op, ast.Sub):
            keep = ast.UnaryOp(ast.USub(), node.right)
        new = keep
    elif kind == "flip":
        node.ops[detail] = FLIPS[type(node.ops[detail])]()
        new = node
    else:
        new = ast.BinOp(node, ast.Mult(), ast.Constant(1.1))
    if new is not node:
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, new)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if item is node:
                        value[i] = new
    ast.fix_missing_locations(copy)
    return copy, f"{before}  ->  {ast.unparse(new)}", getattr(node, "lineno", 0)


def mutants(mechanism: str) -> list[Mutant]:
    """Every perturbation of the mechanism's engine functions and reference methods."""
    engine, reference, _ = MECHANISMS[mechanism]
    out = []
    for side, targets in (("engine", engine), ("reference", reference)):
        for target in targets:
            tree, _, _ = _function_source(target)
            finder = _Sites()
            finder.visit(tree)
            for i in range(len(finder.sites)):
                new, text, line = _mutate(tree, i)
                out.append(Mutant(mechanism, side, target, finder.sites[i][0], line, text, new))
    return out


def _install(mutant: Mutant) -> None:
    """Put the mutated function in place of the original (in a forked child only): a module
    function in its module's namespace, where the module's other functions look it up; a
    method on its class."""
    module_name, qualname = mutant.target.split(":")
    module = importlib.import_module(module_name)
    parts = qualname.split(".")
    saved = module.__dict__.get(parts[-1])
    code = compile(ast.Module([mutant.tree], type_ignores=[]), module.__file__, "exec")
    exec(code, module.__dict__)  # noqa: S102 - our own source, mutated
    if len(parts) == 2:
        setattr(getattr(module, parts[0]), parts[1], module.__dict__[parts[1]])
        if saved is not None:  # a method named like a module function leaves that alone
            module.__dict__[parts[1]] = saved


def _run_tests(names: list[str], scenario) -> bool:
    """Whether every named rule test passes."""
    for name in names:
        module_name, test = name.split(":")
        fn = getattr(importlib.import_module(module_name), test)
        params = inspect.signature(fn).parameters
        fn(**({"sc": scenario} if "sc" in params else {}))
    return True


def _child(mutant: Mutant, scenario, timeout: int) -> None:
    """In a forked child: install ``mutant``, run its mechanism's tests, exit 0 if they all
    pass (the mutant survives), 1 otherwise (a failure, an error or the timeout)."""
    signal.alarm(timeout)
    code = 1
    try:
        _install(mutant)
        _run_tests(MECHANISMS[mutant.mechanism][2], scenario)
        code = 0
    except BaseException:  # noqa: BLE001, S110 - any failure kills the mutant
        pass
    finally:
        os._exit(code)


def check(mechanisms: list[str], jobs: int = 2) -> tuple[list[dict], list[Mutant]]:
    """Run every mutant of ``mechanisms``; returns a table row per mechanism and the
    survivors."""
    from states import rule_scenario

    scenario = rule_scenario()
    for name in {t.split(":")[0] for m in mechanisms for t in MECHANISMS[m][2]}:
        importlib.import_module(name)  # imported once, before forking
    rows, survivors = [], []
    for mech in mechanisms:
        ms = mutants(mech)
        assert _run_tests(MECHANISMS[mech][2], scenario), f"{mech}: the tests fail unmutated"
        alive = _map(ms, scenario, jobs)
        survivors += [m for m, s in zip(ms, alive, strict=True) if s]
        for side in ("engine", "reference"):
            mine = [s for m, s in zip(ms, alive, strict=True) if m.side == side]
            kinds = {k: sum(1 for m in ms if m.side == side and m.kind == k)
                     for k in ("drop", "flip", "scale")}
            rows.append({"mechanism": mech, "side": side, **kinds, "mutants": len(mine),
                         "survivors": sum(mine)})
    return rows, survivors


def _map(ms: list[Mutant], scenario, jobs: int, timeout: int = 120) -> list[bool]:
    """Whether each mutant survives, ``jobs`` forked children at a time."""
    results: dict[int, bool] = {}
    running: dict[int, int] = {}
    queue = list(enumerate(ms))
    while queue or running:
        while queue and len(running) < jobs:
            i, m = queue.pop(0)
            pid = os.fork()
            if pid == 0:
                _child(m, scenario, timeout)
            running[pid] = i
        pid, status = os.wait()
        results[running.pop(pid)] = os.waitstatus_to_exitcode(status) == 0
    return [results[i] for i in range(len(ms))]


def table(rows: list[dict]) -> str:
    """The results as a markdown table."""
    lines = ["| mechanism | side | drop a term | flip a comparison | scale a parameter | "
             "mutants | survivors |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mechanism']} | {r['side']} | {r['drop']} | {r['flip']} | "
                     f"{r['scale']} | {r['mutants']} | {r['survivors']} |")
    total = sum(r["mutants"] for r in rows)
    lines.append(f"| **all** | | | | | **{total}** | **{sum(r['survivors'] for r in rows)}** |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mechanism", action="append", choices=list(MECHANISMS))
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--out", default=None, help="markdown file whose table to rewrite")
    args = ap.parse_args()
    started = time.perf_counter()
    rows, survivors = check(args.mechanism or list(MECHANISMS), args.jobs)
    text = table(rows)
    print(text)
    for m in survivors:
        print(f"SURVIVED {m.side} {m.target} line {m.line} ({m.kind}): {m.description}")
    seconds = time.perf_counter() - started
    print(f"{sum(r['mutants'] for r in rows)} mutants, {len(survivors)} survivors, "
          f"{seconds:.0f} s")
    if args.out:
        _write_table(Path(args.out), text, seconds)
    return 1 if survivors else 0


def _write_table(path: Path, text: str, seconds: float) -> None:
    start, end = "<!-- mutation table -->", "<!-- end mutation table -->"
    doc = path.read_text(encoding="utf-8")
    head, rest = doc.split(start)
    _, tail = rest.split(end)
    stamp = time.strftime("%Y-%m-%d")
    block = (f"{start}\n{text}\n\n`python benchmarks/mutation_check.py --out {path}`, "
             f"{stamp}, {seconds:.0f} s.\n{end}")
    path.write_text(head + block + tail, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
