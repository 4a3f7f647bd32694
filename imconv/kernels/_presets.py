"""Presets: TOML files, one preset each, built into :class:`Kernel` objects.

A preset file holds ``name`` (optional; the file stem), ``description`` and one of:

* ``kernel = [[...]]`` with optional ``scale`` (multiplied in) and ``bias``; or a kernel
  set ``kernel = [[[...]], [[...]]]`` (parts of one shape) with ``combine``;
* ``generator = "gaussian"``, a function of :data:`GENERATORS`, with fixed ``[args]`` and
  user-settable ``[params.KEY]`` tables (``type`` int/float/str/name, ``default``,
  ``default_text`` (shown when the generator chooses the default), bounds
  ``gt``/``ge``/``lt``/``le``, ``choices``, ``help``). Both are checked against the
  generator's own arguments (kinds and hard limits such as 4097 taps a side): ``[args]``
  when the file is read, ``[params]`` when the user gives them. A ``name`` parameter
  names another preset, whose (default, 2-D) weights the generator receives;
* ``parts = ["sobel-x", "sobel-y"]`` with ``combine`` (``magnitude``, ``max``, ``min``,
  ``sum``): a kernel set, its parts presets with their parameters (``"gaussian:sigma=2"``).

A kernel set may also say ``absolute = true`` (each response made absolute first). See
:mod:`imconv.kernels._folders` for where presets are found.
"""

from __future__ import annotations

import inspect
import tomllib
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import Any

import numpy as np

from imconv.errors import InvalidParameterError, KernelError, UnknownNameError

from ._combine import COMBINES
from ._folders import builtin_presets_dir, folder_warnings, registry
from ._generators import ARGUMENTS, GENERATORS, python_name
from ._kernel import Kernel
from ._params import NAME, PresetParam, check_values, format_value, split_spec
from ._values import check_nesting, nested_array

__all__ = [
    "PresetInfo",
    "PresetSpec",
    "find_preset",
    "list_presets",
    "load_preset_file",
    "preset",
    "preset_names",
    "preset_warnings",
]

_KEYS = ("name", "description", "kernel", "scale", "bias", "generator", "args", "params",
         "parts", "combine", "absolute")  # fmt: skip


@dataclass(frozen=True)
class PresetSpec:
    """A parsed preset file; :meth:`build` makes the kernel for given parameter values."""

    name: str
    where: str
    description: str = ""
    kernel: np.ndarray | None = None
    bias: Any = None
    generator: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    params: dict[str, PresetParam] = field(default_factory=dict)
    parts: tuple[str, ...] = ()
    combine: str | None = None
    absolute: bool = False

    def build(self, given: dict[str, Any], *, slug: str = "") -> Kernel:
        """The kernel for ``given`` raw (string) or Python parameter values.

        Raises
        ------
        InvalidParameterError
            Unknown key, wrong type or out-of-range value (see :class:`PresetParam`),
            naming this preset.
        """
        values = check_values(self.name, self.params, given)
        shown = [f"{k}={format_value(values[k])}" for k in self.params if k in given]
        name = self.name + (":" + ",".join(shown) if shown else "")
        if self.parts:
            parts = [_part(text, self.where).weights for text in self.parts]
            rule = {"combine": self.combine or "", "absolute": self.absolute}
            return Kernel.from_parts(
                parts, **rule, name=name, description=self.description, slug=slug
            )
        if self.generator:
            return self._generate(values, name, slug)
        return Kernel(
            self.kernel, name, self.description, self.bias, self.combine, slug, self.absolute
        )

    def _generate(self, values: dict[str, Any], name: str, slug: str) -> Kernel:
        """Run the generator; its own errors name this preset too."""
        for key, value in values.items():
            if self.params[key].kind == "name" and value is not None:
                values[key] = self._named(key, value)
        arguments = {python_name(k): v for k, v in {**self.args, **values}.items()}
        try:
            made = GENERATORS[str(self.generator)](**arguments)
        except InvalidParameterError as error:
            raise InvalidParameterError(f"{error.name} of preset {self.name!r}", error.value,
                                        error.allowed, hint=error.hint) from None  # fmt: skip
        return Kernel(made.weights, name, self.description, self.bias, made.combine, slug,
                      made.absolute, made.factors)  # fmt: skip

    def _named(self, key: str, value: str) -> np.ndarray:
        """The weights of the preset named by parameter ``key``: one 2-D kernel."""
        entries = registry()
        if value not in entries:
            raise UnknownNameError(f"{key} of preset {self.name!r}", value, sorted(entries))
        kernel = _read_spec(entries[value]).build({})
        if kernel.weights.ndim != 2:
            raise InvalidParameterError(f"{key} of preset {self.name!r}", value,
                                        "the name of a preset of one 2-D kernel, such as "
                                        "'sobel-x'")  # fmt: skip
        return kernel.weights


@dataclass(frozen=True)
class PresetInfo:
    """One row of ``imconv kernels``: a preset built with its default parameters.

    ``sum`` is exactly 0.0 when every part sums to zero within rounding; ``zero_sum`` is
    :attr:`Kernel.is_zero_sum` (the range rule); ``combine`` is the rule of a kernel set.
    """

    name: str
    description: str
    shape: tuple[int, ...]
    sum: float
    rank: int
    separable: bool
    zero_sum: bool
    params: tuple[PresetParam, ...]
    source: str
    combine: str | None = None


def _read_spec(entry: Traversable, *, registered: bool = True) -> PresetSpec:
    """Parse a preset file; a registered one must be named after its file."""
    where = str(entry)
    try:
        text = entry.read_text(encoding="utf-8")
        check_nesting(text, where)
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise KernelError(f"{where}: not a valid TOML preset: {error}") from None
    except OSError as error:
        raise KernelError(f"cannot read preset file {where!r}: {error.strerror}") from None
    stem = entry.name[: -len(".toml")].lower()
    spec = parse_spec(data, where, stem)
    if registered and spec.name != stem:
        raise KernelError(f"{where}: name {spec.name!r} must be the file name {stem!r}")
    return spec


def parse_spec(data: dict[str, Any], where: str, stem: str) -> PresetSpec:
    """Validate a preset file's table (see the module docstring); errors name ``where``."""
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise KernelError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(_KEYS)}")
    name = str(data.get("name", stem)).lower()
    if not NAME.fullmatch(name):
        raise KernelError(f"{where}: name must match {NAME.pattern}; got {name!r}")
    forms = [key for key in ("kernel", "generator", "parts") if key in data]
    if len(forms) != 1:
        raise KernelError(f"{where}: give exactly one of 'kernel', 'generator' or 'parts'")
    if {"params", "args"} & set(data) and "generator" not in data:
        raise KernelError(f"{where}: 'params' and 'args' go with a 'generator'")
    spec = PresetSpec(name, where, str(data.get("description", "")))
    if forms == ["generator"]:
        if {"combine", "absolute"} & set(data):
            raise KernelError(f"{where}: a generator sets 'combine' itself (in [args])")
        return _generated(spec, data)
    combine, absolute = _set_rule(data, where)
    if forms == ["kernel"]:
        return _literal(spec, data, combine, absolute)
    return _combined(spec, data, combine, absolute)


def _set_rule(data: dict[str, Any], where: str) -> tuple[str | None, bool]:
    """``combine`` and ``absolute`` of a literal or parts preset, checked."""
    combine, absolute = data.get("combine"), data.get("absolute", False)
    if combine is not None and combine not in COMBINES:
        raise KernelError(f"{where}: combine must be one of {COMBINES}; got {combine!r}")
    if not isinstance(absolute, bool) or (absolute and combine is None):
        raise KernelError(f"{where}: absolute must be true or false, with a combine; "
                          f"got {absolute!r}")  # fmt: skip
    return combine, absolute


def _literal(
    spec: PresetSpec, data: dict[str, Any], combine: str | None, absolute: bool
) -> PresetSpec:
    scale = data.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        raise KernelError(f"{spec.where}: scale must be a number; got {scale!r}")
    with np.errstate(over="ignore"):
        kernel = nested_array(data["kernel"], spec.where) * scale
    try:  # validate shape, values and bias now
        Kernel(kernel, spec.name, bias=data.get("bias"), combine=combine, absolute=absolute)
    except KernelError as error:
        raise KernelError(f"{spec.where}: {error.message}", hint=error.hint) from None
    return PresetSpec(spec.name, spec.where, spec.description, kernel, data.get("bias"),
                      combine=combine, absolute=absolute)  # fmt: skip


def _generated(spec: PresetSpec, data: dict[str, Any]) -> PresetSpec:
    generator, args = data["generator"], data.get("args", {})
    if generator not in GENERATORS:
        raise UnknownNameError(f"generator in {spec.where}", generator, sorted(GENERATORS))
    tables = data.get("params", {})
    if not isinstance(args, dict) or not isinstance(tables, dict):
        raise KernelError(f"{spec.where}: 'args' and 'params' must be tables")
    accepted = ARGUMENTS[generator]
    _check_names(spec.where, generator, set(args) | {k.lower() for k in tables})
    owner = f"preset {spec.name!r}"
    checked = {k: accepted[k].convert(f"{spec.where} [args]", v) for k, v in args.items()}
    params = {}
    for key, table in tables.items():
        param = PresetParam.from_table(key, table, spec.where)
        param = param.within(accepted[param.name], spec.where)
        params[param.name] = param.with_checked_default(spec.where, owner)
    _check_required(spec.where, generator, checked, params)
    return PresetSpec(spec.name, spec.where, spec.description, generator=generator,
                      args=checked, params=params)  # fmt: skip


def _check_names(where: str, generator: str, names: set[str]) -> None:
    """Every argument named is one the generator takes, and none is given twice."""
    accepted = ARGUMENTS[generator]
    unknown = sorted(names - set(accepted))
    if unknown:
        raise KernelError(
            f"{where}: generator {generator!r} has no argument {unknown[0]!r}; "
            f"it takes {', '.join(accepted)}"
        )


def _check_required(
    where: str, generator: str, args: dict[str, Any], params: dict[str, PresetParam]
) -> None:
    """Every required argument is in [args] or a [params] table with a default, not both."""
    both = sorted(set(args) & set(params))
    if both:
        raise KernelError(f"{where}: {both[0]!r} is given in both [args] and [params]")
    signature = inspect.signature(GENERATORS[generator]).parameters
    for key in ARGUMENTS[generator]:
        required = signature[python_name(key)].default is inspect.Parameter.empty
        if required and key not in args and (key not in params or params[key].default is None):
            raise KernelError(
                f"{where}: generator {generator!r} needs {key!r}, in [args] or as a "
                f"[params.{key}] with a default"
            )


def _combined(
    spec: PresetSpec, data: dict[str, Any], combine: str | None, absolute: bool
) -> PresetSpec:
    parts = data["parts"]
    if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts):
        raise KernelError(f"{spec.where}: parts must be a list of preset names; got {parts!r}")
    if combine is None:
        raise KernelError(f"{spec.where}: parts need a combine, one of {COMBINES}; none given")
    return PresetSpec(spec.name, spec.where, spec.description, parts=tuple(parts),
                      combine=combine, absolute=absolute)  # fmt: skip


def _part(text: str, where: str) -> Kernel:
    """One 2-D part of a combined preset; parts may not be kernel sets themselves."""
    name, given = split_spec(text)
    entry = registry().get(name)
    if entry is None:
        raise KernelError(f"{where}: part {text!r} is not a preset")
    spec = _read_spec(entry)
    if spec.parts:
        raise KernelError(f"{where}: part {text!r} combines parts itself; parts must be linear")
    kernel = spec.build(given)
    if kernel.weights.ndim != 2:
        raise KernelError(f"{where}: part {text!r} must be a 2-D kernel; got {kernel.shape}")
    return kernel


def preset_names() -> list[str]:
    """Names of every preset, built-in and user, sorted."""
    return sorted(registry())


def preset_warnings() -> list[str]:
    """One line per problem with the user's presets, naming the file: a folder that is
    not one, a file shadowing a built-in preset or badly named (left out), a file that
    cannot be read as a preset (left out of :func:`list_presets`). Empty when all is well.
    The command line prints these once; nothing else stops for them."""
    warnings = folder_warnings()
    builtin = _toml_names()
    for name, entry in sorted(registry().items()):
        if name in builtin:
            continue
        try:
            _read_spec(entry)
        except KernelError as error:
            warnings.append(f"user preset {str(entry)!r} is not usable: {error.message}")
    return warnings


def find_preset(text: str) -> Kernel | None:
    """The kernel for ``"name"`` or ``"name:key=value,..."`` if ``name`` is a preset, else None.

    Raises
    ------
    InvalidParameterError
        Bad parameters of a known preset.
    """
    name = text.partition(":")[0].strip().lower()
    entry = registry().get(name)
    if entry is None:
        return None
    _, given = split_spec(text)
    return _read_spec(entry).build(given)


def preset(name: str, **params: Any) -> Kernel:
    """The preset ``name`` built with ``params``, for Python callers.

    Parameters
    ----------
    name : str
        A preset name (``imconv kernels`` lists them), case-insensitive.
    **params
        Its parameters as Python values (``sigma=2.0``) or strings (``sigma="2"``).

    Returns
    -------
    Kernel

    Raises
    ------
    UnknownNameError
        ``name`` is not a preset (with a "did you mean" hint).
    InvalidParameterError
        Unknown key, wrong type or out-of-range value, naming the preset and key.

    Examples
    --------
    >>> preset("box", size=2).weights.tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    >>> preset("gaussian", sigma=2).name
    'gaussian:sigma=2'
    """
    entries = registry()
    key = name.strip().lower()
    if key not in entries:
        raise UnknownNameError("preset", name, sorted(entries))
    return _read_spec(entries[key]).build({k.lower(): v for k, v in params.items()})


def load_preset_file(path: Traversable) -> Kernel:
    """A user's preset file given as a kernel path, built with its defaults; slug = stem."""
    stem = path.name.rsplit(".", 1)[0]
    return _read_spec(path, registered=False).build({}, slug=stem)


def list_presets() -> list[PresetInfo]:
    """Every usable preset (built-in and user), sorted by name, built with its defaults.

    User presets that cannot be read are left out (:func:`preset_warnings` names them).

    Returns
    -------
    list of PresetInfo

    Raises
    ------
    KernelError
        A malformed built-in preset file (a bug, named in the message).
    """
    builtin = _toml_names()
    rows = []
    for name, entry in sorted(registry().items()):
        try:
            spec = _read_spec(entry)
            kernel = spec.build({})
        except KernelError:
            if name in builtin:
                raise
            continue
        source = "built-in" if name in builtin else str(entry)
        total = 0.0 if kernel.sums_to_zero else kernel.sum  # not -2e-17 for the LoG
        rows.append(_info(name, kernel, spec, total, source))
    return rows


def _info(name: str, kernel: Kernel, spec: PresetSpec, total: float, source: str) -> PresetInfo:
    """The listing row of preset ``name``, built as ``kernel``."""
    combine = None if kernel.combine is None else str(kernel.combine)
    params = tuple(spec.params.values())
    return PresetInfo(name, kernel.description, kernel.shape, total, kernel.rank,
                      kernel.is_separable, kernel.is_zero_sum, params, source, combine)  # fmt: skip


def _toml_names() -> set[str]:
    return {
        entry.name[: -len(".toml")].lower()
        for entry in builtin_presets_dir().iterdir()
        if entry.name.endswith(".toml")
    }
