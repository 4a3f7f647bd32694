"""Preset parameters: ``name:key=value,key=value`` parsed from strings, typed, range-checked.

One :class:`PresetParam` describes one value a generator takes: its kind, bounds, choices
and default. Generators declare theirs (the hard limits, such as at most 4097 taps a side);
a preset file's ``[params.KEY]`` table makes one user-settable and may narrow it; a preset
file's fixed ``[args]`` are checked against the generator's the same way, so a value is
checked alike from the command line, Python and a file. Values are parsed by regular
expressions and ``float``/``int`` only, never evaluated.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from imconv.errors import InvalidParameterError, KernelError, UnknownNameError

from ._values import NUMBER, nested_array

__all__ = [
    "NAME",
    "PresetParam",
    "argument",
    "check_values",
    "format_value",
    "split_spec",
]

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
"""A preset name: lower-case letters, digits, ``_``, ``.`` and ``-``."""

_INT = re.compile(r"[+-]?\d+")
USER_KINDS = ("int", "float", "str", "name")
"""Kinds a ``[params.KEY]`` table may declare (``name``: another preset, given by name)."""
ARG_KINDS = ("int", "float", "str", "bool", "vector", "matrix")
"""Kinds a generator argument may have (``vector`` and ``matrix`` only in ``[args]``)."""
_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_TABLE_KEYS = {"type", "default", "default_text", "choices", "help", *_BOUNDS}
_NOUNS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "vector": "a non-empty list of numbers",
    "matrix": "a 2-D list of numbers (rows of equal length)",
    "name": "the name of a preset",
}
_COMPATIBLE = {("int", "float"), ("name", "matrix")}  # (declared, generator's) kinds


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
    """One parameter a preset (or a generator) accepts.

    Attributes
    ----------
    name
        The key, as written after the colon (``sigma`` in ``gaussian:sigma=2``).
    kind
        ``"int"``, ``"float"``, ``"str"`` (one of ``choices``), ``"name"`` (a preset's
        name), or for generator arguments ``"bool"``, ``"vector"``, ``"matrix"``.
    default
        The value used when the key is not given; ``None`` lets the generator choose
        (``size`` of ``gaussian``: ``2*ceil(3*sigma)+1``).
    bounds
        ``(operator, limit)`` pairs, e.g. ``((">", 0.0), ("<=", 4097.0))``.
    choices
        The allowed values of a ``str`` parameter.
    help
        One line for ``imconv kernels``.
    default_text
        The default as listings show it: the value (``1``, ``antialias``), or when the
        generator chooses, the rule it follows (``2*ceil(3*sigma)+1``; ``auto`` if none
        is given).
    """

    name: str
    kind: str
    default: Any = None
    bounds: tuple[tuple[str, float], ...] = ()
    choices: tuple[str, ...] = ()
    help: str = ""
    default_text: str = ""

    def __post_init__(self) -> None:
        if not self.default_text:
            text = "auto" if self.default is None else format_value(self.default)
            object.__setattr__(self, "default_text", text)

    @property
    def allowed(self) -> str:
        """What the value must be, phrased to follow "must be"."""
        if self.kind == "str":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        limits = " and ".join(f"{op} {format_value(limit)}" for op, limit in self.bounds)
        noun = _NOUNS[self.kind]
        return f"{noun} {limits}" if limits else noun

    def convert(self, owner: str, value: Any) -> Any:
        """Parse (from a string) or type-check (from Python) ``value`` and check its range.

        Parameters
        ----------
        owner : str
            Whose parameter this is, for the message: ``"preset 'box'"``.
        value
            A string from the command line, or a Python or TOML value.

        Raises
        ------
        InvalidParameterError
            ``"<name> of <owner> must be <allowed>; got <value>"``.
        """
        converted = self._parse(value) if isinstance(value, str) else self._check(value)
        if converted is None or not self._in_range(converted):
            raise InvalidParameterError(f"{self.name} of {owner}", value, self.allowed)
        return converted

    def _parse(self, text: str) -> Any:
        """The typed value of ``text``, or None when it is not of this kind."""
        text = text.strip()
        if self.kind in ("str", "name"):
            return text.lower() if self.kind == "str" or NAME.fullmatch(text.lower()) else None
        if self.kind == "int":
            return int(text) if _INT.fullmatch(text) else None
        if self.kind == "float":
            return float(text) if NUMBER.fullmatch(text) else None
        if self.kind == "bool" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return None

    def _check(self, value: Any) -> Any:
        """``value`` itself (typed) when a Python object is of this kind, else None."""
        if self.kind == "bool":
            return value if isinstance(value, bool) else None
        if isinstance(value, bool):
            return None
        if self.kind == "int":
            return int(value) if isinstance(value, int | np.integer) else None
        if self.kind == "float":
            is_number = isinstance(value, int | float | np.integer | np.floating)
            return float(value) if is_number and math.isfinite(value) else None
        if self.kind in ("vector", "matrix"):
            return _array(value, 1 if self.kind == "vector" else 2)
        return None

    def _in_range(self, value: Any) -> bool:
        if isinstance(value, str):
            return self.kind == "name" or value in self.choices
        if isinstance(value, bool | np.ndarray | tuple):
            return True
        return math.isfinite(value) and all(_COMPARE[op](value, limit) for op, limit in self.bounds)

    def within(self, accepted: PresetParam, where: str) -> PresetParam:
        """This (a preset file's) parameter narrowed by the generator's own ``accepted``:
        both sets of bounds apply (the tighter one shown), choices must be a subset.

        Raises
        ------
        KernelError
            A kind the generator cannot take, or choices it does not know.
        """
        if self.kind != accepted.kind and (self.kind, accepted.kind) not in _COMPATIBLE:
            raise KernelError(
                f"{where}: params.{self.name} has type {self.kind!r}, but the generator "
                f"takes {accepted.kind!r}"
            )
        unknown = sorted(set(self.choices) - set(accepted.choices)) if accepted.choices else []
        if unknown:
            raise KernelError(
                f"{where}: params.{self.name} has choice {unknown[0]!r}; the generator takes "
                + ", ".join(repr(c) for c in accepted.choices)
            )
        bounds = _tightest((*accepted.bounds, *self.bounds))
        return replace(self, bounds=bounds, choices=self.choices or accepted.choices)

    @classmethod
    def from_table(cls, key: str, table: Any, where: str) -> PresetParam:
        """Build from a preset file's ``[params.KEY]`` table (``type``, ``default``, bounds,
        ``choices``, ``help``, ``default_text``), its default not yet checked.

        Raises
        ------
        KernelError
            Naming the file ``where`` and the bad entry.
        """
        if not isinstance(table, dict):
            raise KernelError(f"{where}: params.{key} must be a table with a 'type'")
        unknown = sorted(set(table) - _TABLE_KEYS)
        if unknown or table.get("type") not in USER_KINDS:
            bad = f"key {unknown[0]!r}" if unknown else f"type {table.get('type')!r}"
            raise KernelError(
                f"{where}: params.{key} has {bad}; allowed keys: {', '.join(sorted(_TABLE_KEYS))}"
                f"; types: {', '.join(USER_KINDS)}"
            )
        limits = {k: table[k] for k in _BOUNDS if k in table}
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in limits.values()):
            raise KernelError(f"{where}: params.{key} bounds must be numbers; got {limits!r}")
        bounds = tuple((_BOUNDS[k], float(v)) for k, v in limits.items())
        choices = tuple(str(c).lower() for c in table.get("choices", ()))
        return cls(key.lower(), table["type"], table.get("default"), bounds, choices,
                   str(table.get("help", "")), str(table.get("default_text", "")))  # fmt: skip

    def with_checked_default(self, where: str, owner: str) -> PresetParam:
        """This parameter with its default converted and range-checked as a parameter of
        ``owner`` (KernelError naming the file ``where`` otherwise); ``str`` parameters
        need choices."""
        if self.kind == "str" and not self.choices:
            raise KernelError(
                f"{where}: params.{self.name} of type 'str' needs a list of 'choices'"
            )
        if self.default is None:
            return self
        try:
            default = self.convert(owner, self.default)
        except InvalidParameterError as error:
            raise KernelError(f"{where}: default of params.{self.name}: {error.message}") from None
        text = self.default_text if self.default_text != format_value(self.default) else ""
        return replace(self, default=default, default_text=text or format_value(default))


def argument(
    name: str,
    kind: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    choices: tuple[str, ...] = (),
) -> PresetParam:
    """A generator's argument: its kind and hard limits (see :class:`PresetParam`).

    Examples
    --------
    >>> argument("size", "int", ge=1, le=4097).allowed
    'an integer >= 1 and <= 4097'
    """
    limits = {">": gt, ">=": ge, "<": lt, "<=": le}
    bounds = tuple((op, float(v)) for op, v in limits.items() if v is not None)
    return PresetParam(name, kind, None, bounds, choices)


def _tightest(bounds: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """At most one lower and one upper bound: the tighter of each (strict wins a tie)."""
    lower = [(limit, op == ">") for op, limit in bounds if op in (">", ">=")]
    upper = [(-limit, op == "<") for op, limit in bounds if op in ("<", "<=")]
    result = []
    if lower:
        limit, strict = max(lower)
        result.append((">" if strict else ">=", limit))
    if upper:
        limit, strict = max(upper)
        result.append(("<" if strict else "<=", -limit))
    return tuple(result)


def _array(value: Any, ndim: int) -> np.ndarray | None:
    """A list (of lists) of finite numbers as a read-only float64 array of ``ndim`` axes."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    try:
        array = nested_array(value, "value")
    except KernelError:
        return None
    if array.ndim != ndim or not np.isfinite(array).all():
        return None
    array.setflags(write=False)
    return array


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
    owner = f"preset {preset!r}"
    return {
        key: param.convert(owner, given[key]) if key in given else param.default
        for key, param in params.items()
    }
