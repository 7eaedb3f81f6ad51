"""The apps every embedded server offers, so that a notebook works offline."""

from __future__ import annotations

from ..base import App
from .chart import ChartApp
from .counter import CounterApp
from .fail import FailApp
from .picture import PictureApp
from .sleep import SleepApp
from .sql import SqlApp

BUILTIN_APPS: list[type[App]] = [PictureApp, ChartApp, SqlApp, CounterApp, SleepApp, FailApp]

__all__ = ["BUILTIN_APPS", "ChartApp", "CounterApp", "FailApp", "PictureApp", "SleepApp", "SqlApp"]
