"""The observer hook: follow what happens inside a month without changing the run.

Pass an :class:`Observer` (or any object with some of these methods) as
``QualityCityModel(..., observer=...)``. The model calls each method at its point of the monthly
step (docs/ODD.md, process overview) with the model itself, whose state (``model.pop``,
``model.steps``, the scenario) the observer may read. An observer must not change the state or
draw random numbers: the run, and its numbers, are then exactly those of the same seed without
an observer (``tests/test_analysis_notebooks.py`` checks this through the firm panel).

The firm panel (:func:`simcity_quality.experiments.firms.firm_panel`) is built on this hook.
"""


class Observer:
    """No-op base: override the calls you need."""

    def before_decisions(self, model) -> None:
        """The month's decisions are about to be taken (state as the firms see it)."""

    def after_decisions(self, model, decisions) -> None:
        """The decisions were taken: ``decisions`` is a :class:`~.behaviour.Decisions` (the
        investments made per slot as a bit mask, ``-1`` where the firm did not review, and the
        firms making each investment)."""

    def before_inspections(self, model) -> None:
        """The city's inspections of the month are about to be made."""

    def after_inspections(self, model, outcome) -> None:
        """The inspections were made: ``outcome`` is a
        :class:`~.government.InspectionOutcome` (who was inspected, failed, revoked, closed)."""
