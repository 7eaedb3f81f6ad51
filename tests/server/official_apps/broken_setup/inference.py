from inferencesh import BaseApp, BaseAppInput, BaseAppOutput


class AppInput(BaseAppInput):
    text: str


class AppOutput(BaseAppOutput):
    text: str


class App(BaseApp):
    async def setup(self, metadata):
        raise RuntimeError("the model weights are missing")

    async def run(self, input_data: AppInput, metadata) -> AppOutput:
        return AppOutput(text=input_data.text)
