"""The filter AST, with positions kept for error messages (they take no part in equality).

``parse_filter`` builds it, ``compile_expr`` turns it into SQL and ``format_filter`` prints it
back; code may build it directly too (the report library and the DigiCert dialect do).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeAlias

Scalar: TypeAlias = str | int | float | bool | None


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    CO = "co"
    SW = "sw"
    EW = "ew"
    PR = "pr"
    IN = "in"


LIKE_OPS: Final = frozenset({Op.CO, Op.SW, Op.EW})
ORDERING_OPS: Final = frozenset({Op.GT, Op.GE, Op.LT, Op.LE})


def _position() -> int:
    return dataclasses.field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Literal:
    value: Scalar
    position: int = _position()


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    op: Op
    value: Literal
    position: int = _position()
    op_position: int = _position()


@dataclass(frozen=True, slots=True)
class Present:
    field: str
    position: int = _position()


@dataclass(frozen=True, slots=True)
class InList:
    field: str
    values: tuple[Literal, ...]
    position: int = _position()
    op_position: int = _position()


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


Expr: TypeAlias = Comparison | Present | InList | And | Or | Not
