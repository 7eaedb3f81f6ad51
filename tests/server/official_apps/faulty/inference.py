import ctypes
import os
import sys
import time
from typing import Literal

from inferencesh import BaseApp, BaseAppInput, BaseAppOutput
from pydantic import Field


class AppInput(BaseAppInput):
    mode: Literal["ok", "raise", "exit", "crash", "hang"] = Field(description="What run does")
    pid_file: str = Field(default="", description="Where to write the process id first (tests)")


class AppOutput(BaseAppOutput):
    mode: str


class App(BaseApp):
    async def setup(self):
        pass

    async def run(self, input_data: AppInput) -> AppOutput:
        if input_data.pid_file:
            with open(input_data.pid_file, "w") as file:
                file.write(str(os.getpid()))
        if input_data.mode == "raise":
            raise ValueError("the input asked for an error")
        if input_data.mode == "exit":
            sys.exit(3)
        if input_data.mode == "crash":
            print("about to crash", file=sys.stderr, flush=True)
            ctypes.string_at(0)  # reads address 0: a segmentation fault
        if input_data.mode == "hang":
            time.sleep(3600)  # blocking, not awaiting: only ending the process stops it
        return AppOutput(mode=input_data.mode)
