"""Report states and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from reportd.domain.errors import InvalidStateTransition


class ReportState(StrEnum):
    CREATED = "CREATED"
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    FAILURE = "FAILURE"
    TIMEOUT = "TIMEOUT"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {
        ReportState.FINISHED,
        ReportState.FAILURE,
        ReportState.TIMEOUT,
        ReportState.CANCELED,
        ReportState.EXPIRED,
    }
)

# IN_PROGRESS -> CREATED is the reaper handing a dead worker's report back to the queue.
_TRANSITIONS: dict[ReportState, frozenset[ReportState]] = {
    ReportState.CREATED: frozenset(
        {ReportState.IN_PROGRESS, ReportState.CANCELED, ReportState.FAILURE}
    ),
    ReportState.IN_PROGRESS: frozenset(
        {
            ReportState.CREATED,
            ReportState.FINISHED,
            ReportState.FAILURE,
            ReportState.TIMEOUT,
            ReportState.CANCELED,
        }
    ),
    # FINISHED -> CREATED: a format is being added from the report's kept rows.
    ReportState.FINISHED: frozenset({ReportState.EXPIRED, ReportState.CREATED}),
    ReportState.FAILURE: frozenset({ReportState.EXPIRED}),
    ReportState.TIMEOUT: frozenset({ReportState.EXPIRED}),
    ReportState.CANCELED: frozenset({ReportState.EXPIRED}),
    ReportState.EXPIRED: frozenset(),
}


def can_transition(current: ReportState, target: ReportState) -> bool:
    return target in _TRANSITIONS[current]


def check_transition(current: ReportState, target: ReportState) -> None:
    if not can_transition(current, target):
        raise InvalidStateTransition(f"a {current} report cannot become {target}")
