"""The apps one server offers, by `namespace/name@version`."""

from __future__ import annotations

from typing import Any, Literal

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel

from inference_nb.wire.tasks import APP_ID_PATTERN

from .base import App, app_functions
from .official.loader import ProcessApp


class UnknownApp(LookupError):
    """No app has that id (message says which ids exist)."""


class AppRegistry:
    """The apps one server offers, by name and version.

    Args:
        apps: app classes to register at once (see `register`).

    Raises:
        TypeError: one of `apps` is not a valid app class.
    """

    def __init__(self, apps: list[type[App]] | None = None) -> None:
        self._apps: dict[str, dict[str, type[App]]] = {}
        self._descriptions: dict[str, tuple[type[App], dict[str, Any], dict[str, Any]]] = {}
        """By app id: the class described, its entry before and after `latest` (`_described`)."""
        for app in apps or []:
            self.register(app)

    def register(self, app: type[App]) -> type[App]:
        """Offer `app`; registering the same name and version again replaces it. Returns `app`
        (so it works as a class decorator).

        Args:
            app: a subclass of `App`.

        Raises:
            TypeError: `app` is not an `App` subclass, its `name` is not `namespace/name` (lower
                case), its `version` is not a version string, `Input` / `Output` / `Setup` are not
                pydantic models, it defines no `run`, or a `@function` has no models or a bad name.
        """
        _check_app_class(app)
        self._apps.setdefault(app.name, {})[app.version] = app
        self._descriptions.pop(app_id(app), None)  # registered (again): described afresh
        return app

    def resolve(self, app_id: str) -> type[App]:
        """The app class of an id; without `@version`, the newest version (by PEP 440 order).

        Args:
            app_id: `namespace/name` or `namespace/name@version`.

        Raises:
            UnknownApp: `app_id` is not an app id, or no app or version matches (the message
                lists what exists).
        """
        match = APP_ID_PATTERN.match(app_id)
        if not match:
            raise UnknownApp(f"{app_id!r} is not an app id (namespace/name@version)")
        name, version = f"{match['namespace']}/{match['name']}", match["version"]
        versions = self._apps.get(name)
        if not versions:
            known = ", ".join(sorted(self._apps)) or "none"
            raise UnknownApp(f"no app named {name!r}; apps on this server: {known}")
        if version is None:
            return versions[max(versions, key=_version_key)]
        if version not in versions:
            raise UnknownApp(
                f"app {name!r} has no version {version!r}; versions: {', '.join(sorted(versions, key=_version_key))}"
            )
        return versions[version]

    def __iter__(self):
        """Every registered app class, by name, newest version first."""
        for name in sorted(self._apps):
            for version in sorted(self._apps[name], key=_version_key, reverse=True):
                yield self._apps[name][version]

    def describe(self) -> list[dict[str, Any]]:
        """Every app with its schemas, as `GET /apps` shows them (shared: not to be changed)."""
        latest = {name: max(versions, key=_version_key) for name, versions in self._apps.items()}
        entries = []
        for app in self:
            head, rest = self._described(app)
            entries.append({**head, "latest": latest[app.name] == app.version, **rest})
        return entries

    def _described(self, app: type[App]) -> tuple[dict[str, Any], dict[str, Any]]:
        """`app`'s entry before and after `latest`, worked out once per registration of the class: every
        new client asks for the app list before its first task (`kernel/input_check.py`), and the
        schemas of every app took tens of milliseconds (docs/ARCHITECTURE.md, "Cold start and hot paths")."""
        found = self._descriptions.get(app_id(app))
        if found is not None and found[0] is app:
            return found[1], found[2]
        schemas: dict[tuple[type[BaseModel], str], dict[str, Any]] = {}

        def schema(model: type[BaseModel], mode: Literal["validation", "serialization"]) -> dict[str, Any]:
            # An app's Input and Output are its `run` function's too: each model is described once.
            if (model, mode) not in schemas:
                schemas[model, mode] = model.model_json_schema(mode=mode)
            return schemas[model, mode]

        head = {"id": app_id(app), "name": app.name, "version": app.version}
        rest = {
            "description": app.description,
            "input_schema": schema(app.Input, "validation"),
            "output_schema": schema(app.Output, "serialization"),
            "setup_schema": schema(app.Setup, "validation") if app.Setup else None,
            **_variants(app),
            "functions": [
                {
                    "name": spec.name,
                    "description": spec.description,
                    "input_schema": schema(spec.Input, "validation"),
                    "output_schema": schema(spec.Output, "serialization"),
                }
                for spec in app_functions(app).values()
            ],
        }
        self._descriptions[app_id(app)] = (app, head, rest)
        return head, rest


def _variants(app: type[App]) -> dict[str, Any]:
    """An app in the service's format lists its variants (a request picks one with `variant`)."""
    if not issubclass(app, ProcessApp):
        return {}
    return {"variants": {key: cls.variant.public() for key, cls in app.variants.items()}}


def app_id(app: type[App]) -> str:
    return f"{app.name}@{app.version}"


def _version_key(version: str) -> tuple[int, Any]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _check_app_class(app: Any) -> None:
    if not (isinstance(app, type) and issubclass(app, App)):
        raise TypeError(f"an app must be a subclass of inference_nb.server.App, not {app!r}")
    name = getattr(app, "name", None)
    if not isinstance(name, str) or "@" in name or not APP_ID_PATTERN.match(name):
        raise TypeError(f"{app.__name__}.name must look like 'namespace/name' (lower case), not {name!r}")
    if not APP_ID_PATTERN.match(f"{name}@{app.version}"):
        raise TypeError(f"{app.__name__}.version {app.version!r} is not a version string")
    for model in ("Input", "Output"):
        if not (isinstance(getattr(app, model, None), type) and issubclass(getattr(app, model), BaseModel)):
            raise TypeError(f"{app.__name__}.{model} must be a pydantic model class")
    if app.Setup is not None and not issubclass(app.Setup, BaseModel):
        raise TypeError(f"{app.__name__}.Setup must be a pydantic model class or None")
    timeout = app.run_timeout
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise TypeError(f"{app.__name__}.run_timeout must be a positive number of seconds or None, not {timeout!r}")
    if app.run is App.run:
        raise TypeError(f"{app.__name__} must define run(self, input, ctx)")
    app_functions(app)  # its named functions' models and names are checked here, not at the first call
