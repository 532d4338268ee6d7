"""Validation: does the model reproduce published findings it was not fitted to?
(docs/validation.md; the checks are in :mod:`.checks`)."""

from .checks import (
    FINDINGS,
    ISO_END_YEAR,
    Check,
    Finding,
    brand_support_applications,
    certainty_over_severity,
    default_scenarios,
    general_deterrence,
    iso_diffusion,
    iso_fit,
    run_all,
    table,
)

__all__ = ["FINDINGS", "ISO_END_YEAR", "Check", "Finding", "brand_support_applications",
           "certainty_over_severity", "default_scenarios", "general_deterrence",
           "iso_diffusion", "iso_fit", "run_all", "table"]
