"""Apps with named functions beside run: declared with @function, checked when registered, listed, run."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel

from inference_nb.server import App, RunContext, function, start_server
from inference_nb.server.apps.registry import AppRegistry


class Text(BaseModel):
    text: str


class Shout(App):
    name = "test/shout"
    Input = Text
    Output = Text

    def run(self, input: Text, ctx: RunContext) -> Text:
        return Text(text=input.text.upper())

    @function
    def whisper(self, input: Text) -> Text:
        """Lower-cases text."""
        return Text(text=input.text.lower())

    @function(name="twice", input=Text, output=Text)
    async def double(self, input, ctx):
        return {"text": input.text * 2}


def test_functions_are_listed_with_their_models(tmp_path):
    described = AppRegistry([Shout]).describe()[0]["functions"]
    assert [(f["name"], f["description"]) for f in described] == [
        ("run", ""),
        ("twice", ""),
        ("whisper", "Lower-cases text."),
    ]
    assert described[2]["input_schema"]["properties"] == {"text": {"title": "Text", "type": "string"}}


def test_a_function_runs_by_name_or_in_the_app_reference(tmp_path):
    with start_server(data_dir=tmp_path / "data", apps=[Shout], builtin_apps=False) as server:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}) as api:
            whisper = {"app": "test/shout", "function": "whisper", "input": {"text": "HeLLo"}}
            assert api.post("/apps/run?wait=true", json=whisper).json()["data"]["output"] == {"text": "hello"}
            twice = {"app": "test/shout@1.0.0:twice", "input": {"text": "ab"}}
            task = api.post("/apps/run?wait=true", json=twice).json()["data"]
            assert (task["output"], task["function"]) == ({"text": "abab"}, "twice")
            refused = api.post("/run", json=whisper)  # the spec's body has no function
            assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "function"
            clash = api.post("/apps/run", json={**twice, "function": "whisper"})
            assert clash.status_code == 422 and "names function 'twice' but function is 'whisper'" in clash.text


def test_a_function_without_models_is_refused_when_registered():
    class NoModels(App):
        name = "test/no-models"
        Input = Text
        Output = Text

        def run(self, input, ctx):
            return input

        @function
        def broken(self, input, ctx):
            return input

    with pytest.raises(TypeError, match=r"NoModels.broken: the input must be a pydantic model"):
        AppRegistry([NoModels])


def test_two_functions_of_one_name_are_refused():
    class Twice(App):
        name = "test/twice"
        Input = Text
        Output = Text

        def run(self, input, ctx):
            return input

        @function(name="run", input=Text, output=Text)
        def again(self, input, ctx):
            return input

    with pytest.raises(TypeError, match="two functions named 'run'"):
        AppRegistry([Twice])
