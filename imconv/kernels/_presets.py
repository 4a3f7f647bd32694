"""Presets: TOML files, one preset each, built into :class:`Kernel` objects.

A preset file holds ``name`` (optional; the file stem), ``description`` and one of:

* ``kernel = [[...]]`` with optional ``scale`` (multiplied in) and ``bias``;
* ``generator = "gaussian"``, a function of :data:`GENERATORS`, with fixed ``[args]`` and
  user-settable ``[params.KEY]`` tables (``type`` int/float/str, ``default``, bounds
  ``gt``/``ge``/``lt``/``le``, ``choices``, ``help``);
* ``parts = ["sobel-x", "sobel-y"]`` with ``combine = "magnitude"``.

Built-in presets ship in the wheel as ``imconv/presets`` (found with importlib.resources)
and live in the repository's top-level ``presets/`` folder in a source checkout. User
presets are the ``*.toml`` files of ``$IMCONV_PRESETS``, else of
``$XDG_CONFIG_HOME/imconv/presets`` (``~/.config/imconv/presets``). A user preset with the
name of a built-in one is an error, never a silent replacement.
"""

from __future__ import annotations

import importlib.resources
import inspect
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np

from imconv.errors import KernelError, UnknownNameError

from ._generators import GENERATORS
from ._kernel import COMBINES, Kernel, nested_array
from ._params import PresetParam, check_values, format_value, split_spec

__all__ = [
    "PresetInfo",
    "PresetSpec",
    "builtin_presets_dir",
    "find_preset",
    "list_presets",
    "load_preset_file",
    "preset",
    "preset_names",
    "user_presets_dir",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_KEYS = ("name", "description", "kernel", "scale", "bias", "generator", "args", "params",
         "parts", "combine")  # fmt: skip


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

    def build(self, given: dict[str, Any], *, slug: str = "") -> Kernel:
        """The kernel for ``given`` raw (string) or Python parameter values.

        Raises
        ------
        InvalidParameterError
            Unknown key, wrong type or out-of-range value (see :class:`PresetParam`).
        """
        values = check_values(self.name, self.params, given)
        shown = [f"{k}={format_value(values[k])}" for k in self.params if k in given]
        name = self.name + (":" + ",".join(shown) if shown else "")
        weights: Any = self.kernel
        if self.parts:
            weights = np.stack([_part(text, self.where).weights for text in self.parts])
        elif self.generator:
            weights = GENERATORS[self.generator](**self.args, **values)
        return Kernel(weights, name, self.description, self.bias, self.combine, slug)


@dataclass(frozen=True)
class PresetInfo:
    """One row of ``imconv kernels``: a preset built with its default parameters."""

    name: str
    description: str
    shape: tuple[int, ...]
    sum: float
    rank: int
    separable: bool
    zero_sum: bool
    params: tuple[PresetParam, ...]
    source: str


def builtin_presets_dir() -> Traversable:
    """The folder of built-in preset files: ``imconv/presets`` in an installed wheel, else
    the top-level ``presets/`` of the source checkout (editable installs)."""
    packaged = importlib.resources.files("imconv") / "presets"
    if packaged.is_dir():
        return packaged
    import imconv

    return Path(imconv.__file__).resolve().parent.parent / "presets"


def user_presets_dir() -> Path | None:
    """``$IMCONV_PRESETS`` if set, else ``$XDG_CONFIG_HOME/imconv/presets`` or
    ``~/.config/imconv/presets`` when that folder exists.

    Raises
    ------
    KernelError
        ``$IMCONV_PRESETS`` is set but is not a folder.
    """
    configured = os.environ.get("IMCONV_PRESETS")
    if configured:
        folder = Path(configured).expanduser()
        if not folder.is_dir():
            raise KernelError(f"IMCONV_PRESETS names {configured!r}, which is not a folder")
        return folder
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    folder = Path(base) / "imconv" / "presets"
    return folder if folder.is_dir() else None


def _toml_files(folder: Traversable) -> dict[str, Traversable]:
    return {
        entry.name[: -len(".toml")].lower(): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".toml") and entry.is_file()
    }


def _registry() -> dict[str, Traversable]:
    """Every preset name and its file; KernelError when a user preset shadows a built-in."""
    builtin = builtin_presets_dir()
    found = _toml_files(builtin)
    folder = user_presets_dir()
    if folder is not None and str(folder.resolve()) == str(builtin):
        folder = None  # $IMCONV_PRESETS pointing at the built-in folder adds nothing
    for name, entry in _toml_files(folder).items() if folder else ():
        if name in found:
            raise KernelError(
                f"user preset {str(entry)!r} has the name of the built-in preset {name!r}",
                hint="rename the file: built-in presets cannot be replaced",
            )
        if not _NAME.fullmatch(name):
            raise KernelError(f"user preset {str(entry)!r}: names must match {_NAME.pattern}")
        found[name] = entry
    return found


def _read_spec(entry: Traversable, *, registered: bool = True) -> PresetSpec:
    """Parse a preset file; a registered one must be named after its file."""
    where = str(entry)
    try:
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
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
    """Validate a preset file's table (see the module docstring); KernelError naming ``where``."""
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise KernelError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(_KEYS)}")
    name = str(data.get("name", stem)).lower()
    if not _NAME.fullmatch(name):
        raise KernelError(f"{where}: name must match {_NAME.pattern}; got {name!r}")
    forms = [key for key in ("kernel", "generator", "parts") if key in data]
    if len(forms) != 1:
        raise KernelError(f"{where}: give exactly one of 'kernel', 'generator' or 'parts'")
    if {"params", "args"} & set(data) and "generator" not in data:
        raise KernelError(f"{where}: 'params' and 'args' go with a 'generator'")
    spec = PresetSpec(name, where, str(data.get("description", "")))
    if forms == ["kernel"]:
        return _literal(spec, data)
    if forms == ["generator"]:
        return _generated(spec, data)
    return _combined(spec, data)


def _literal(spec: PresetSpec, data: dict[str, Any]) -> PresetSpec:
    scale = data.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        raise KernelError(f"{spec.where}: scale must be a number; got {scale!r}")
    kernel = nested_array(data["kernel"], spec.where) * scale
    Kernel(kernel, spec.name, bias=data.get("bias"))  # validate shape, values and bias now
    return PresetSpec(spec.name, spec.where, spec.description, kernel, data.get("bias"))


def _generated(spec: PresetSpec, data: dict[str, Any]) -> PresetSpec:
    generator, args = data["generator"], data.get("args", {})
    if generator not in GENERATORS:
        raise UnknownNameError(f"generator in {spec.where}", generator, sorted(GENERATORS))
    tables = data.get("params", {})
    if not isinstance(args, dict) or not isinstance(tables, dict):
        raise KernelError(f"{spec.where}: 'args' and 'params' must be tables")
    params = {k.lower(): PresetParam.from_table(k, t, spec.where) for k, t in tables.items()}
    _check_arguments(spec.where, generator, args, params)
    return PresetSpec(spec.name, spec.where, spec.description, generator=generator,
                      args=args, params=params)  # fmt: skip


def _check_arguments(
    where: str, generator: str, args: dict[str, Any], params: dict[str, PresetParam]
) -> None:
    """Every argument is accepted by the generator, and every required one is given."""
    accepted = inspect.signature(GENERATORS[generator]).parameters
    unknown = sorted((set(args) | set(params)) - set(accepted))
    if unknown:
        raise KernelError(
            f"{where}: generator {generator!r} has no argument {unknown[0]!r}; "
            f"it takes {', '.join(accepted)}"
        )
    for name, parameter in accepted.items():
        required = parameter.default is inspect.Parameter.empty
        if required and name not in args and (name not in params or params[name].default is None):
            raise KernelError(
                f"{where}: generator {generator!r} needs {name!r}, in [args] or as a "
                f"[params.{name}] with a default"
            )


def _combined(spec: PresetSpec, data: dict[str, Any]) -> PresetSpec:
    parts, combine = data["parts"], data.get("combine")
    if not isinstance(parts, list) or not parts or not all(isinstance(p, str) for p in parts):
        raise KernelError(f"{spec.where}: parts must be a list of preset names; got {parts!r}")
    if combine not in COMBINES:
        raise KernelError(f"{spec.where}: combine must be one of {COMBINES}; got {combine!r}")
    return PresetSpec(spec.name, spec.where, spec.description, parts=tuple(parts),
                      combine=combine)  # fmt: skip


def _part(text: str, where: str) -> Kernel:
    """One 2-D part of a combined preset; parts may not be combined presets themselves."""
    name, given = split_spec(text)
    entry = _registry().get(name)
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
    return sorted(_registry())


def find_preset(text: str) -> Kernel | None:
    """The kernel for ``"name"`` or ``"name:key=value,..."`` if ``name`` is a preset, else None.

    Raises
    ------
    InvalidParameterError
        Bad parameters of a known preset.
    """
    name = text.partition(":")[0].strip().lower()
    entry = _registry().get(name)
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
    registry = _registry()
    key = name.strip().lower()
    if key not in registry:
        raise UnknownNameError("preset", name, sorted(registry))
    return _read_spec(registry[key]).build({k.lower(): v for k, v in params.items()})


def load_preset_file(path: Path) -> Kernel:
    """A user's preset file given as a kernel path, built with its defaults; slug = stem."""
    return _read_spec(path, registered=False).build({}, slug=path.stem)


def list_presets() -> list[PresetInfo]:
    """Every preset (built-in and user), sorted by name, built with default parameters.

    Returns
    -------
    list of PresetInfo

    Raises
    ------
    KernelError
        A malformed preset file (named in the message), or a user preset shadowing a
        built-in one.
    """
    builtin = _toml_files(builtin_presets_dir())
    rows = []
    for name, entry in sorted(_registry().items()):
        spec = _read_spec(entry)
        kernel = spec.build({})
        source = "built-in" if name in builtin else str(entry)
        rows.append(PresetInfo(name, kernel.description, kernel.shape, kernel.sum,
                               kernel.rank, kernel.is_separable, kernel.is_zero_sum,
                               tuple(spec.params.values()), source))  # fmt: skip
    return rows
