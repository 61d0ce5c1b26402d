"""How much of a normal day's volume has traded by a given point in the session.

US equities trade in a U shape: heavy at the open and the close, quiet at midday. The profile
used here is the density p(x) = (1 + 3 (2x - 1)^2) / 2 over the session fraction x in [0, 1]
(three times the midday rate at both ends), whose integral is

    F(x) = (x + ((2x - 1)^3 + 1) / 2) / 2,    F(0) = 0, F(0.5) = 0.5, F(1) = 1,

so 39 minutes into a 390-minute session about 17 % of a normal day's volume is expected. Relative
volume "against the same time of day" is today's volume so far over F(x) times the baseline day.
"""

from __future__ import annotations

import math

from catalyst.pipeline.numbers import FEATURE_CAP

# The first minutes' volume is not extrapolated: below this share of a day, F is held here.
MIN_EXPECTED_SHARE = 0.02


def expected_volume_share(session_fraction: float) -> float:
    """F(x) of the module doc for x clipped to [0, 1], floored at `MIN_EXPECTED_SHARE`;
    an unknown (NaN) fraction counts as the whole day (the most sceptical baseline)."""
    if math.isnan(session_fraction):
        return 1.0
    x = min(max(session_fraction, 0.0), 1.0)
    share = (x + ((2.0 * x - 1.0) ** 3 + 1.0) / 2.0) / 2.0
    return max(share, MIN_EXPECTED_SHARE)


def relative_volume(volume_so_far: float, baseline_day_volume: float, fraction: float) -> float:
    """Today's volume so far over what a baseline day has traded by `fraction` of the session;
    0 when there is no usable baseline; capped at `FEATURE_CAP` (never NaN or inf)."""
    if not (math.isfinite(volume_so_far) and math.isfinite(baseline_day_volume)):
        return 0.0
    if baseline_day_volume <= 0 or volume_so_far <= 0:
        return 0.0
    expected = baseline_day_volume * expected_volume_share(fraction)
    if not expected > 0:  # a baseline so small that its share underflows to 0
        return 0.0
    value = volume_so_far / expected
    return min(value, FEATURE_CAP) if math.isfinite(value) else FEATURE_CAP
