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
FIRMS_RENAMED = ("`firms=` is now `resolution=`: how many of the city's firms are simulated "
                 "(money and counts are always for the whole city, whose size is city.firms in "
                 "the scenario)")


def renamed(**old_to_new: str):
    """Refuse keyword arguments that were renamed, with a message naming the new word:
    ``@renamed(firms="resolution")``."""
    import functools

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    message = FIRMS_RENAMED if old == "firms" else f"`{old}=` is now `{new}=`"
                    raise SimcityQualityError(f"{fn.__qualname__}: {message}.")
            return fn(*args, **kwargs)
        return wrapper
    return decorate


class SimcityQualityWarning(UserWarning):
    """Something a user should know about a result that is not an error: a search whose
    objective was flat over what it tried, an answer not settled within its runs."""
