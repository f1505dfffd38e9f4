"""What a create call that names no format gets: the template's first format this build writes.

Why: SpaceONE's CreateReportRequest has no format at all and getbill's create call (an extension
of its document) may omit one; both must get the same answer, decided here and not in a router.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reportd.domain.models import ReportRequest, Template
from reportd.generation.formats.registry import available_formats

__all__ = ["default_formats", "with_default_formats"]


def default_formats(template: Template) -> tuple[str, ...]:
    """The first of the template's formats that this installation can write (none: the first)."""
    available = set(available_formats())
    for fmt in template.formats:
        if fmt in available:
            return (fmt.value,)
    return tuple(f.value for f in template.formats[:1])


def with_default_formats(
    request: ReportRequest, templates: Mapping[str, Template]
) -> ReportRequest:
    """``request`` with the default format filled in when it names none.

    An unknown template is left to ``ReportService.create_report``, which checks the caller's
    scope before it says "template not found".
    """
    template = templates.get(request.template_id)
    if request.formats or template is None:
        return request
    return replace(request, formats=default_formats(template))
