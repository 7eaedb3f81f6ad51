"""Functions a run may call, registered in-process as tools of a named service.

    @server.function(service="example")
    def searchInventory(name: str | None = None, limit: int = 10) -> list[dict]:
        '''Search the inventory by item name.'''

Parameters come from the type hints (or from one pydantic model parameter);
the description from the docstring unless given.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

DEFAULT_CLUSTER = "local"
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Function:
    service: str
    name: str
    description: str
    fn: Callable[..., Any]
    arguments: type[BaseModel]
    """Model of the parameters; validates what the planner passes."""
    returns: Any = None
    """The return annotation (None when there is none)."""
    requires_approval: bool = False
    model_param: str | None = None
    """Set when `fn` takes one pydantic model: the name of that parameter."""

    @property
    def parameter_names(self) -> list[str]:
        return list(self.arguments.model_fields)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "schema": self.arguments.model_json_schema(),
            "config": {"requiresApproval": self.requires_approval},
        }

    def validate(self, arguments: dict[str, Any]) -> BaseModel:
        return self.arguments.model_validate(arguments)

    async def call(self, arguments: BaseModel, *, run_sync: Callable[[Callable[[], Any]], Any]) -> Any:
        if self.model_param is not None:
            kwargs = {self.model_param: arguments}
        else:
            kwargs = {name: getattr(arguments, name) for name in self.parameter_names}
        if inspect.iscoroutinefunction(self.fn):
            return await self.fn(**kwargs)
        return await run_sync(lambda: self.fn(**kwargs))


def make_function(
    fn: Callable[..., Any],
    *,
    service: str,
    name: str | None = None,
    description: str | None = None,
    requires_approval: bool = False,
) -> Function:
    name = name or fn.__name__
    for what, value in (("service", service), ("function name", name)):
        if not NAME_PATTERN.match(value):
            raise ValueError(f"{what} {value!r} must be letters, digits and '_' (not starting with a digit)")
    try:
        signature = inspect.signature(fn, eval_str=True)
    except NameError as exc:
        raise TypeError(
            f"the type hints of {name} cannot be resolved ({exc}); define the types they name at module level"
        ) from None
    arguments, model_param = _arguments_model(signature, name)
    returns = signature.return_annotation
    return Function(
        returns=None if returns is inspect.Signature.empty else returns,
        service=service,
        name=name,
        description=(description or inspect.getdoc(fn) or "").strip(),
        fn=fn,
        arguments=arguments,
        requires_approval=requires_approval,
        model_param=model_param,
    )


def _arguments_model(signature: inspect.Signature, name: str) -> tuple[type[BaseModel], str | None]:
    params = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if len(params) == 1 and isinstance(params[0].annotation, type) and issubclass(params[0].annotation, BaseModel):
        return params[0].annotation, params[0].name
    fields: dict[str, Any] = {}
    for param in params:
        annotation = Any if param.annotation is inspect.Parameter.empty else param.annotation
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    return create_model(f"{name}_arguments", **fields), None


@dataclass
class Cluster:
    id: str
    functions: dict[tuple[str, str], Function] = field(default_factory=dict)

    def register(self, function: Function) -> Function:
        self.functions[(function.service, function.name)] = function
        return function

    def available(self, attached: list[tuple[str, str]] | None) -> list[Function]:
        """Every function, or only the attached ones (unknown ones raise KeyError naming them)."""
        if attached is None:
            return list(self.functions.values())
        missing = [f"{s}.{n}" for s, n in attached if (s, n) not in self.functions]
        if missing:
            raise KeyError(", ".join(missing))
        return [self.functions[key] for key in attached]

    def services(self) -> list[dict[str, Any]]:
        by_service: dict[str, list[Function]] = {}
        for function in self.functions.values():
            by_service.setdefault(function.service, []).append(function)
        return [
            {"name": service, "functions": [f.describe() for f in functions]}
            for service, functions in sorted(by_service.items())
        ]


class Clusters:
    """The clusters of one server; the default one always exists."""

    def __init__(self) -> None:
        self._clusters: dict[str, Cluster] = {DEFAULT_CLUSTER: Cluster(DEFAULT_CLUSTER)}

    def get(self, cluster_id: str) -> Cluster:
        return self._clusters[cluster_id]

    def ensure(self, cluster_id: str) -> Cluster:
        if not NAME_PATTERN.match(cluster_id.replace("-", "_")):
            raise ValueError(f"cluster id {cluster_id!r} must be letters, digits, '-' and '_'")
        return self._clusters.setdefault(cluster_id, Cluster(cluster_id))

    def ids(self) -> list[str]:
        return sorted(self._clusters)


def describe_arguments_error(function: Function, error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        field_name = ".".join(str(p) for p in item["loc"]) or "(arguments)"
        parts.append(f"{field_name}: {item['msg']}")
    return f"{function.service}.{function.name} was not called: " + "; ".join(parts)
