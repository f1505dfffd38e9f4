"""DigiCert's schedule object <-> a cron expression at 00:00 UTC.

DigiCert describes a report's calendar as an object (frequency, weekday, ordinal, repeat every N
months, a date of the month); reportd schedules by cron. ``ScheduleSpec.cron`` goes one way,
``schedule_object`` the other, so a client reading a report's details gets back the object it sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from pydantic import BaseModel, Field

from reportd.app.library import Cadence, cadence
from reportd.domain.errors import ValidationError
from reportd.domain.models import Schedule

WEEKDAYS: Final = ("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY")
_ORDINALS: Final = {"FIRST": "#1", "SECOND": "#2", "THIRD": "#3", "FOURTH": "#4", "LAST": "L"}
_WEEKDAY_ORDINALS: Final = {v: k for k, v in _ORDINALS.items() if k != "LAST"}
FREQUENCIES: Final = {
    "ON_DEMAND": Cadence.ONCE,
    "WEEKLY": Cadence.WEEKLY,
    "MONTHLY": Cadence.MONTHLY,
}
_FREQUENCY_NAMES: Final = {
    Cadence.ONCE: "ON_DEMAND",
    Cadence.WEEKLY: "WEEKLY",
    Cadence.MONTHLY: "MONTHLY",
    Cadence.OTHER: "CUSTOM",
}


def invalid(message: str, target: str) -> ValidationError:
    """A 400 whose ``target`` tells the error mapper which DigiCert code it is."""
    return ValidationError(message, details={"target": target})


class RepeatOnDate(BaseModel):
    date: int | None = Field(default=None, ge=1, le=31)
    last_day_of_the_month: bool = False


class ScheduleSpec(BaseModel):
    frequency: str = Field(min_length=1)
    weekday_to_run: str | None = None
    weekday_frequency: str | None = None
    run_until: str | None = None
    repeat_every: int | str | None = None
    repeat_on: str | None = None
    repeat_on_date: RepeatOnDate | None = None

    @property
    def on_demand(self) -> bool:
        return self.frequency.upper() == "ON_DEMAND"

    def cron(self, today: date) -> str | None:
        """The calendar as cron, at 00:00 UTC; None for ON_DEMAND (run when asked)."""
        frequency = self.frequency.upper()
        if frequency not in FREQUENCIES:
            raise invalid(f"frequency must be one of {list(FREQUENCIES)}", "schedule")
        self._check_until(today)
        if frequency == "ON_DEMAND":
            return None
        if frequency == "WEEKLY":
            if self._every() != 1:
                raise invalid("a weekly schedule repeats every week", "schedule")
            return f"0 0 * * {self._weekday()}"
        return self._monthly(today)

    def _monthly(self, today: date) -> str:
        every = self._every()
        if 12 % every:
            raise invalid("repeat_every of a monthly schedule must divide 12", "schedule")
        months = "*" if every == 1 else _months(today.month, every)
        on_date = self.repeat_on_date
        if on_date is not None and (on_date.last_day_of_the_month or on_date.date):
            day = "L" if on_date.last_day_of_the_month else str(on_date.date)
            return f"0 0 {day} {months} *"
        ordinal = _ORDINALS.get((self.weekday_frequency or "").upper())
        if ordinal is None:
            raise invalid(
                "a monthly schedule needs repeat_on_date or weekday_to_run and weekday_frequency",
                "schedule",
            )
        weekday = self._weekday()
        dow = f"L{weekday}" if ordinal == "L" else f"{weekday}{ordinal}"
        return f"0 0 * {months} {dow}"

    def _weekday(self) -> int:
        name = (self.weekday_to_run or "").upper()
        if name not in WEEKDAYS:
            raise invalid(f"weekday_to_run must be one of {list(WEEKDAYS)}", "schedule")
        return WEEKDAYS.index(name)

    def _every(self) -> int:
        raw = self.repeat_every
        if raw in (None, "", 0):
            return 1
        try:
            every = int(raw)
        except ValueError:
            raise invalid("repeat_every must be a whole number", "schedule") from None
        if every < 1:
            raise invalid("repeat_every must be a positive number", "schedule")
        return every

    def _check_until(self, today: date) -> None:
        if not self.run_until:
            return
        try:
            until = date.fromisoformat(self.run_until)
        except ValueError:
            raise invalid("run_until must be a date such as 2030-12-31", "run_until") from None
        if until < today:
            raise invalid("run_until is in the past", "run_until")


def _months(start: int, every: int) -> str:
    """Every ``every`` months counted from ``start`` (1-12), as a cron month list."""
    return ",".join(str(m) for m in sorted({(start - 1 + k * every) % 12 + 1 for k in range(12)}))


def frequency_name(schedule: Schedule | None) -> str | None:
    return None if schedule is None else _FREQUENCY_NAMES[cadence(schedule.cron)]


def schedule_object(cron: str | None) -> dict[str, Any]:
    """DigiCert's schedule object back from the cron expression ``ScheduleSpec.cron`` made."""
    blank: dict[str, Any] = {
        "frequency": "ON_DEMAND",
        "weekday_to_run": "",
        "weekday_frequency": "",
        "run_until": "",
        "repeat_every": 1,
    }
    if cron is None:
        return blank
    kind = cadence(cron)
    fields = cron.split()
    if kind is Cadence.WEEKLY and fields[4].isdigit():
        return {**blank, "frequency": "WEEKLY", "weekday_to_run": WEEKDAYS[int(fields[4]) % 7]}
    if kind is not Cadence.MONTHLY:
        return {**blank, "frequency": _FREQUENCY_NAMES[kind]}
    months = fields[3]
    every = 1 if months == "*" else 12 // max(1, len(months.split(",")))
    monthly = {**blank, "frequency": "MONTHLY", "repeat_every": every}
    day, dow = fields[2], fields[4]
    if day != "*":
        last = day == "L"
        return {
            **monthly,
            "repeat_on": "DATE_OF_THE_MONTH",
            "repeat_on_date": {"date": None if last else int(day), "last_day_of_the_month": last},
        }
    if dow.startswith("L"):
        weekday, ordinal = dow[1:], "LAST"
    else:
        weekday, _, number = dow.partition("#")
        ordinal = _WEEKDAY_ORDINALS.get(f"#{number}", "")
    return {
        **monthly,
        "repeat_on": "DAY_OF_THE_MONTH",
        "weekday_frequency": ordinal,
        "weekday_to_run": WEEKDAYS[int(weekday) % 7] if weekday.isdigit() else "",
    }
