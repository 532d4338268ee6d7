"""The one exception type users see: a clear, one-paragraph message, no traceback in the CLI;
and notes, which are not errors."""

import logging


class SimcityQualityError(Exception):
    """A user error (bad scenario file, missing file, broken results folder)."""


class ScenarioError(SimcityQualityError, ValueError):
    """A scenario file or override that cannot be used; the message names file and key."""



NOTES = logging.getLogger("simcity_quality.notes")


def note(message: str) -> None:
    """Tell the user something that is not an error (a store that cannot be verified, a stale
    lock taken over, damaged parts skipped): a warning on the ``simcity_quality.notes`` logger,
    which the command line prints as ``note: ...`` and Python, unconfigured, prints as is."""
    NOTES.warning(message)
