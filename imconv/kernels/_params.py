"""Preset parameters: ``name:key=value,key=value`` parsed from strings, typed, range-checked.

Values are parsed by regular expressions and ``float``/``int`` only, never evaluated.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Any

from imconv.errors import InvalidParameterError, KernelError, UnknownNameError

__all__ = ["PresetParam", "check_values", "format_value", "split_spec"]

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_KINDS = ("int", "float", "str")
_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_TABLE_KEYS = {"type", "default", "choices", "help", *_BOUNDS}


def split_spec(text: str) -> tuple[str, dict[str, str]]:
    """Split ``"name:key=value,key=value"`` into the lower-cased name and raw values.

    Raises
    ------
    InvalidParameterError
        An item that is not ``key=value``, or a key given twice.
    """
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    values: dict[str, str] = {}
    if not rest.strip():
        return name, values
    for item in rest.split(","):
        key, equals, value = item.partition("=")
        key = key.strip().lower()
        if not equals or not key or not value.strip():
            raise InvalidParameterError(
                f"parameters of preset {name!r}",
                rest,
                "key=value pairs separated by commas",
                hint=f"for example '{name}:sigma=2' or 'motion:length=15,angle=45'",
            )
        if key in values:
            raise InvalidParameterError(f"parameter {key!r} of preset {name!r}", rest, "given once")
        values[key] = value.strip()
    return name, values


def format_value(value: Any) -> str:
    """A parameter value as written in a kernel name: ``2`` not ``2.0``, ``1.5``, ``nearest``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class PresetParam:
    """One parameter a preset accepts.

    Attributes
    ----------
    name
        The key, as written after the colon (``sigma`` in ``gaussian:sigma=2``).
    kind
        ``"int"``, ``"float"`` or ``"str"``.
    default
        The value used when the key is not given; ``None`` lets the generator choose
        (``size`` of ``gaussian``: ``2*ceil(3*sigma)+1``).
    bounds
        ``(operator, limit)`` pairs, e.g. ``((">", 0.0),)``.
    choices
        The allowed values of a ``str`` parameter.
    help
        One line for ``imconv kernels``.
    """

    name: str
    kind: str
    default: int | float | str | None = None
    bounds: tuple[tuple[str, float], ...] = ()
    choices: tuple[str, ...] = ()
    help: str = ""

    @property
    def default_text(self) -> str:
        """The default as shown in listings: ``1``, ``antialias``, or ``auto`` when the
        generator chooses (``size`` of ``gaussian``)."""
        return "auto" if self.default is None else format_value(self.default)

    @property
    def allowed(self) -> str:
        """What the value must be, phrased to follow "must be"."""
        if self.kind == "str":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        noun = "an integer" if self.kind == "int" else "a number"
        limits = " and ".join(f"{op} {format_value(limit)}" for op, limit in self.bounds)
        return f"{noun} {limits}" if limits else noun

    def convert(self, preset: str, value: Any) -> int | float | str:
        """Parse (from a string) or type-check (from Python) ``value`` and check its range.

        Raises
        ------
        InvalidParameterError
            Naming the preset, the key, the value received and what is allowed.
        """
        converted = self._parse(value) if isinstance(value, str) else self._check(value)
        if converted is None or not self._in_range(converted):
            raise InvalidParameterError(f"{self.name} of preset {preset!r}", value, self.allowed)
        return converted

    def _parse(self, text: str) -> int | float | str | None:
        """The typed value of ``text``, or None when it is not of this kind."""
        text = text.strip()
        if self.kind == "str":
            return text.lower()
        if self.kind == "int":
            return int(text) if _INT.fullmatch(text) else None
        return float(text) if _FLOAT.fullmatch(text) else None

    def _check(self, value: Any) -> int | float | str | None:
        """``value`` itself when a Python object is of this kind, else None."""
        if isinstance(value, bool):
            return None
        if self.kind == "int":
            return int(value) if isinstance(value, int) else None
        if self.kind == "float":
            is_number = isinstance(value, int | float)
            return float(value) if is_number and math.isfinite(value) else None
        return None

    def _in_range(self, value: int | float | str) -> bool:
        if isinstance(value, str):
            return value in self.choices
        return math.isfinite(value) and all(_COMPARE[op](value, limit) for op, limit in self.bounds)

    @classmethod
    def from_table(cls, key: str, table: Any, where: str) -> PresetParam:
        """Build from a preset file's ``[params.KEY]`` table (``type``, ``default``, bounds).

        Raises
        ------
        KernelError
            Naming the file ``where`` and the bad entry.
        """
        if not isinstance(table, dict):
            raise KernelError(f"{where}: params.{key} must be a table with a 'type'")
        unknown = sorted(set(table) - _TABLE_KEYS)
        if unknown or table.get("type") not in _KINDS:
            bad = f"key {unknown[0]!r}" if unknown else f"type {table.get('type')!r}"
            raise KernelError(
                f"{where}: params.{key} has {bad}; allowed keys: {', '.join(sorted(_TABLE_KEYS))}"
                f"; types: {', '.join(_KINDS)}"
            )
        limits = {k: table[k] for k in _BOUNDS if k in table}
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in limits.values()):
            raise KernelError(f"{where}: params.{key} bounds must be numbers; got {limits!r}")
        bounds = tuple((_BOUNDS[k], float(v)) for k, v in limits.items())
        choices = tuple(str(c).lower() for c in table.get("choices", ()))
        if table["type"] == "str" and not choices:
            raise KernelError(f"{where}: params.{key} of type 'str' needs a list of 'choices'")
        param = cls(key.lower(), table["type"], None, bounds, choices, str(table.get("help", "")))
        if "default" not in table:
            return param
        try:
            default = param.convert(where, table["default"])
        except InvalidParameterError as error:
            raise KernelError(f"{where}: default of params.{key}: {error.message}") from None
        return cls(param.name, param.kind, default, bounds, choices, param.help)


def check_values(
    preset: str, params: dict[str, PresetParam], given: dict[str, Any]
) -> dict[str, Any]:
    """Every parameter's value: ``given`` (converted and checked) over the defaults.

    Raises
    ------
    UnknownNameError
        A key the preset does not have (with a "did you mean" hint).
    InvalidParameterError
        A value of the wrong type or out of range.
    """
    for key in given:
        if key not in params:
            if not params:
                raise InvalidParameterError(f"preset {preset!r}", key, "used without parameters")
            raise UnknownNameError(f"parameter of preset {preset!r}", key, list(params))
    return {
        key: param.convert(preset, given[key]) if key in given else param.default
        for key, param in params.items()
    }
