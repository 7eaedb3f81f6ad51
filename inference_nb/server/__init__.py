"""The embedded server: speaks the tasks API and the runs API, offline.

from inference_nb.server import start_server, App
server = start_server()          # a daemon thread; server.url, server.token
server.register(MyApp)           # offer your own app
server.register(load_app_dir("./my-app"))   # or one written for inference.sh
server.stop()
"""

from __future__ import annotations

from .app import ServerConfig, create_app
from .apps.base import App, File, RunContext, TaskCancelled, function
from .apps.official import load_app_dir
from .apps.registry import AppRegistry
from .embedded import EmbeddedServer, default_data_dir, start_server
from .store import DataDirInUse

__all__ = [
    "App",
    "AppRegistry",
    "DataDirInUse",
    "EmbeddedServer",
    "File",
    "RunContext",
    "ServerConfig",
    "TaskCancelled",
    "create_app",
    "default_data_dir",
    "function",
    "load_app_dir",
    "start_server",
]
