"""Virtual focus groups: which of two products would each persona prefer?

Persona grids come from YAML (factors and levels, or a CSV of personas); each persona is asked
``samples`` times with the option order randomised; every answer passes the ``focus-group``
guard policy (even mildly toxic output is removed and counted); answers are parsed into a
product, ``neither`` or ``unparseable`` (counted, never guessed); shares come with Wilson
intervals, factors with chi-square tests of association, and the position effect is reported.
"""

from probity.focus.grid import Product, StudyConfig, load_study, personas, render_prompt
from probity.focus.parse import parse_choice
from probity.focus.report import write_report
from probity.focus.runner import Answer, FocusGroupResult, analyse, run_study
from probity.focus.stats import association, position_effect, wilson

__all__ = [
    "Answer",
    "FocusGroupResult",
    "Product",
    "StudyConfig",
    "analyse",
    "association",
    "load_study",
    "parse_choice",
    "personas",
    "position_effect",
    "render_prompt",
    "run_study",
    "wilson",
    "write_report",
]
