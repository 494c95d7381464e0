"""The public surface of a BookingApp, found by introspection (nobody lists the methods).

A service is any attribute of the app that is a ``booking_core.services`` ``Service``; its public
methods are the functions of its class not starting with ``_``. A ``**changes`` parameter
stands for the fields of the entity the method returns (``update_package`` returns a
``Package``) that are not parameters already, less its identity, plus one unknown name.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from booking_core.bootstrap import BookingApp
from booking_core.services._base import Service

#: Fields of an entity that no ``update_*`` may change.
IDENTITY = frozenset({"id", "tenant_id", "slug"})
#: The name an update is called with to check unknown fields are refused.
UNKNOWN_FIELD = "no_such_field"


@dataclass(frozen=True)
class Method:
    """One public method: ``service.name`` and its parameters (``self`` excluded)."""

    service: str
    name: str
    parameters: tuple[inspect.Parameter, ...]
    returns: Any

    @property
    def qualname(self) -> str:
        return f"{self.service}.{self.name}"

    def required(self) -> list[inspect.Parameter]:
        return [
            p
            for p in self.parameters
            if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD
        ]

    def changes_fields(self) -> list[str]:
        """The keyword names a ``**changes`` parameter accepts (empty without one)."""
        if not any(p.kind is p.VAR_KEYWORD for p in self.parameters):
            return []
        if not dataclasses.is_dataclass(self.returns):
            raise TypeError(f"{self.qualname}: **kwargs without a dataclass return type")
        named = {p.name for p in self.parameters}  # explicit keywords are targets already
        names = [
            f.name
            for f in dataclasses.fields(self.returns)
            if f.name not in IDENTITY and f.name not in named
        ]
        return [*names, UNKNOWN_FIELD]


def services(app: BookingApp) -> dict[str, object]:
    """The app's services by attribute name, in a stable order."""
    found = {name: value for name, value in vars(app).items() if isinstance(value, Service)}
    return dict(sorted(found.items()))


def public_methods(app: BookingApp) -> list[Method]:
    methods = []
    for service_name, service in services(app).items():
        for name, function in inspect.getmembers(type(service), inspect.isfunction):
            if name.startswith("_"):
                continue
            signature = inspect.signature(function)
            hints = typing.get_type_hints(function)
            methods.append(
                Method(
                    service_name,
                    name,
                    tuple(signature.parameters.values())[1:],
                    hints.get("return"),
                )
            )
    return methods


def bound(app: BookingApp, method: Method) -> Callable[..., Any]:
    service: Any = getattr(app, method.service)
    return typing.cast(Callable[..., Any], getattr(service, method.name))


@dataclass(frozen=True)
class Target:
    """One place a hostile value goes: a parameter, a field of one, or a ``**changes`` name.

    ``path`` is empty for the whole parameter, else the fields leading into its valid value
    (``policy`` → ``("hold_ttl",)``).
    """

    method: Method
    parameter: str
    path: tuple[str | int, ...] = ()
    change: str | None = None  # set for a ``**changes`` field

    @property
    def id(self) -> str:
        where = self.change or ".".join([self.parameter, *map(str, self.path)])
        return f"{self.method.qualname}:{where}"


def targets(
    methods: list[Method], nested: Callable[[Method, str], Iterator[tuple[Any, ...]]]
) -> list[Target]:
    """Every target of every method; ``nested(method, parameter)`` yields paths into its value."""
    found = []
    for method in methods:
        for parameter in method.parameters:
            if parameter.kind is parameter.VAR_KEYWORD:
                found.extend(
                    Target(method, parameter.name, change=field)
                    for field in method.changes_fields()
                )
                continue
            found.append(Target(method, parameter.name))
            found.extend(
                Target(method, parameter.name, path) for path in nested(method, parameter.name)
            )
    return found
