import os
import tempfile

from inferencesh import BaseApp, BaseAppInput, BaseAppOutput, File
from pydantic import Field


class AppInput(BaseAppInput):
    document: File = Field(description="A text file")
    note: str = Field(default="", description="Put at the end")


class AppOutput(BaseAppOutput):
    upper: File
    characters: int
    input_name: str


class App(BaseApp):
    async def setup(self, metadata):
        self.out_dir = tempfile.mkdtemp(prefix="upper-file-")

    async def run(self, input_data: AppInput, metadata):
        with open(input_data.document.path, encoding="utf-8") as source:
            text = source.read()
        yield AppOutput(upper=File(path=input_data.document.path), characters=0, input_name="")
        path = os.path.join(self.out_dir, f"{metadata.task_id}.txt")
        with open(path, "w", encoding="utf-8") as target:
            target.write(text.upper() + input_data.note)
        yield AppOutput(upper=File(path=path), characters=len(text), input_name=input_data.document.filename)
