"""Calibration: fit base-year state and behavioural parameters to a city's observed figures
by the method of simulated moments (docs/calibration.md).

- :mod:`.observed`: the statistics a user can bring, moments, search ranges, observed files;
- :mod:`.moments`: simulating the moments on common random numbers;
- :mod:`.estimation`: :func:`calibrate` (``sq.calibrate``), standard errors, identification;
- :mod:`.result`: :class:`CalibrationResult` and the calibrated scenario file.
"""

from .estimation import calibrate
from .moments import simulate_moments
from .observed import (
    STATISTICS,
    CalibrationError,
    ObservedFile,
    check_parameters,
    load_observed,
    parse_observed,
)
from .result import CalibrationResult

__all__ = ["STATISTICS", "CalibrationError", "CalibrationResult", "ObservedFile", "calibrate",
           "check_parameters", "load_observed", "parse_observed", "simulate_moments"]
