"""`period_unfinished` for the reports' pages (templates/reports/_unfinished.html): the
same test the downloaded files' headers use."""

from ...reports.common import period_unfinished
from .blueprint import bp

bp.add_app_template_global(period_unfinished, "period_unfinished")
