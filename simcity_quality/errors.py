"""The one exception type users see: a clear, one-paragraph message, no traceback in the CLI."""


class SimcityQualityError(Exception):
    """A user error (bad scenario file, missing file, broken results folder)."""


class ScenarioError(SimcityQualityError, ValueError):
    """A scenario file or override that cannot be used; the message names file and key."""


class SimcityQualityWarning(UserWarning):
    """Something a user should know about a result that is not an error: a search whose
    objective was flat over what it tried, an answer not settled within its runs."""
