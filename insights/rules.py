"""Numbers that more than one part of the insights engine (and its pages) must agree on.

Each rule lives here once; modules import it and templates receive it in their context.
Numbers that only one module uses stay next to the code that applies them.
"""

from __future__ import annotations

# A skill whose recent quiz score (the latest answers per skill, in percent) is below this
# is weak: a struggling topic on the dashboard and in the weekly run, and a reason to
# suggest revision.
STRUGGLING_BELOW = 60
# ... on at least this many answers: one wrong answer is not a struggle (the diagnostic's
# evidence floor too, insights.diagnostic.MIN_ANSWERS).
STRUGGLING_MIN_ANSWERS = 3
# The window, in days, of the performance summary the dashboard shows and the weekly run
# reads.
SUMMARY_DAYS = 30
