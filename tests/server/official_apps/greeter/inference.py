import os

from inferencesh import BaseApp, BaseAppInput, BaseAppOutput, function
from pydantic import BaseModel, Field

from .wording import greeting


class AppInput(BaseAppInput):
    name: str = Field(description="Who to greet")
    times: int = Field(default=1, ge=1, le=5, description="How many greetings")
    polite: bool = Field(default=False, description="Add a please")


class AppOutput(BaseAppOutput):
    greeting: str
    task_id: str
    app_id: str
    variant: str
    worker_id: str
    set_up_by: str
    folder: str


class ShoutInput(BaseModel):
    text: str


class ShoutOutput(BaseModel):
    shouted: str


class App(BaseApp):
    """Greets someone."""

    async def setup(self, metadata):
        self.set_up_by = metadata.task_id
        self.mark = os.environ["GREETER_MARK"]

    async def run(self, input_data: AppInput, metadata) -> AppOutput:
        loud = metadata.app_variant == "loud"
        words = " ".join([greeting(input_data.name, self.mark, loud)] * input_data.times)
        return AppOutput(
            greeting=words + (" please" if input_data.polite else ""),
            task_id=metadata.task_id,
            app_id=metadata.app_id,
            variant=metadata.app_variant,
            worker_id=metadata.worker_id,
            set_up_by=self.set_up_by,
            folder=os.path.basename(os.getcwd()),
        )

    @function(annotations={"readOnlyHint": True})
    async def shout(self, input_data: ShoutInput) -> ShoutOutput:
        """Shouts the text back."""
        return ShoutOutput(shouted=input_data.text.upper() + self.mark)

    async def unload(self):
        pass
