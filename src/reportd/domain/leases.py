"""What the work queue answers a worker: a heartbeat's verdict and a reaper's round."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CANCELED_MESSAGE", "Heartbeat", "ReapResult"]

CANCELED_MESSAGE = "The report was canceled."


@dataclass(frozen=True, slots=True)
class Heartbeat:
    alive: bool  # False: the lease was lost, stop without finishing
    cancel_requested: bool


@dataclass(frozen=True, slots=True)
class ReapResult:
    """Ids of the reports whose lease ran out, by what became of them."""

    requeued: list[str]
    failed: list[str]
    canceled: list[str]
    retried: list[str] = field(default_factory=list)  # parked by ``park``, back in the queue
