"""`edgeagent chat` driven through click's CliRunner on a tiny trunk with random heads.

Random weights make the answers nonsense; what must hold: answers stream (the streamed pieces
join to the answer), calls are shown and their results (run from --tools-module, or pasted at
`tool> `) reach the model as tool messages, a failing tool never ends the chat, /reset and end
of input behave, and schemas derived from Python signatures compile into scaffolds.
"""

import json
import typing

import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch")

from edgeagent.cli import main  # noqa: E402
from edgeagent.commands import chat as chat_mod  # noqa: E402
from edgeagent.commands.chat import call_tool, function_schema  # noqa: E402
from edgeagent.runtime.pipeline import Pipeline, PipelineConfig  # noqa: E402
from edgeagent.scaffold import compile_schema  # noqa: E402
from edgeagent.scaffold.testing import tiny_tokenizer  # noqa: E402

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}]

TOOLS_MODULE = '''
import typing


def get_weather(city: str, days: int = 1, unit: typing.Literal["c", "f"] = "c") -> dict:
    """Weather for a city.

    Args:
        city: the city name
        days (int): how many days
    """
    return {"city": city, "days": days, "temp": 21}


def broken(x: int) -> str:
    """Always fails."""
    raise RuntimeError("the service is down")


def _helper():
    pass
'''


class Spy:
    """The pipeline, recording each request (and the streamed pieces of each answer)."""

    def __init__(self, pipe):
        self.pipe, self.requests, self.streams, self.responses = pipe, [], [], []

    def respond(self, request, on_token=None):
        self.requests.append(json.loads(json.dumps(request)))
        pieces = []

        def tee(piece):
            pieces.append(piece)
            on_token(piece)

        resp = self.pipe.respond(request, on_token=tee if on_token else None)
        self.streams.append(pieces)
        self.responses.append(resp)
        return resp


@pytest.fixture(scope="module")
def tiny_pipe(tiny_backend):
    return Pipeline(tiny_backend, PipelineConfig(max_new_tokens=6, max_calls=2))


@pytest.fixture
def spy(tiny_pipe, monkeypatch):
    s = Spy(tiny_pipe)
    monkeypatch.setattr(chat_mod, "_make_pipeline", lambda *a, **k: s)
    return s


def _chat(args, text):
    return CliRunner().invoke(main, ["chat", *args], input=text)


def test_chat_streams_answers_over_several_turns(spy):
    result = _chat(["--tool-choice", "none"], "hello there\nthe weather\n/exit\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("you> ") == 3 and len(spy.requests) == 2
    # the second turn sees the first exchange
    assert [m["role"] for m in spy.requests[1]["messages"]] == ["user", "assistant", "user"]
    for pieces, resp in zip(spy.streams, spy.responses):
        assert resp["mode"] != "tool" and "".join(pieces).strip() == resp["content"]
        assert len(pieces) <= resp["timings"]["decode_tokens"]


def test_pasted_tool_result_goes_back_to_the_model(spy, tmp_path):
    (tmp_path / "tools.json").write_text(json.dumps(TOOLS))
    result = _chat(["--tools", str(tmp_path / "tools.json"), "--tool-choice", "required", "--max-tool-rounds", "1"],
                   'weather in Tokyo\ntool> {"temp": 21}\n/exit\n')
    assert result.exit_code == 0, result.output
    assert "call> get_weather {" in result.output
    follow_up = spy.requests[1]["messages"]
    assert follow_up[1]["role"] == "assistant" and follow_up[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert follow_up[2] == {"role": "tool", "tool_call_id": follow_up[1]["tool_calls"][0]["id"], "name": "get_weather",
                            "content": '{"temp": 21}'}
    assert spy.requests[1]["tool_choice"] == "none"  # the last round must answer in text


def test_tools_module_runs_calls_and_a_failing_tool_does_not_end_the_chat(spy, tmp_path):
    (tmp_path / "mytools.py").write_text(TOOLS_MODULE)
    result = _chat(["--tools-module", str(tmp_path / "mytools.py"), "--tool-choice", "broken",
                    "--max-tool-rounds", "1"], "do it\nand again\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "tools: get_weather, broken" in result.output
    assert "tool> error: RuntimeError: the service is down" in result.output
    tool_msgs = [m for m in spy.requests[1]["messages"] if m["role"] == "tool"]
    assert tool_msgs and tool_msgs[0]["content"] == "error: RuntimeError: the service is down"
    assert len(spy.requests) == 4  # two turns of (call, answer)


def test_tools_module_function_result_is_json(spy, tmp_path):
    (tmp_path / "mytools.py").write_text(TOOLS_MODULE)
    result = _chat(["--tools-module", str(tmp_path / "mytools.py"), "--tool-choice", "get_weather",
                    "--max-tool-rounds", "1"], "weather in Paris\n")
    assert result.exit_code == 0, result.output
    tool_msg = next(m for m in spy.requests[1]["messages"] if m["role"] == "tool")
    assert json.loads(tool_msg["content"])["temp"] == 21


def test_reset_and_end_of_input(spy):
    result = _chat(["--tool-choice", "none", "--system", "be brief"], "hello\n/reset\nagain\n")
    assert result.exit_code == 0, result.output
    assert "(conversation cleared)" in result.output
    assert [m["role"] for m in spy.requests[1]["messages"]] == ["system", "user"]


def test_end_of_input_at_the_tool_prompt_ends_the_chat(spy, tmp_path):
    (tmp_path / "tools.json").write_text(json.dumps(TOOLS))
    result = _chat(["--tools", str(tmp_path / "tools.json"), "--tool-choice", "required"], "weather in Tokyo\n")
    assert result.exit_code == 0, result.output
    assert len(spy.requests) == 1


def test_unknown_tool_choice_is_a_clear_error(spy):
    result = _chat(["--tool-choice", "nope"], "hi\n")
    assert result.exit_code != 0 and "nope" in result.output


def test_function_schema_from_signature_and_docstring():
    class Trip(typing.TypedDict):
        origin: str
        stops: list[str]

    def plan(city: str, nights: int, budget: float | None = None, tags: list[str] = (),
             mode: typing.Literal["train", "car"] = "train", trip: Trip | None = None, **extra):
        """Plan a trip.

        More text.

        Args:
            city: where to go
                (any city)
            nights (int): how long
        Returns:
            a plan
        """

    spec = function_schema(plan)["function"]
    params = spec["parameters"]
    assert spec["name"] == "plan" and spec["description"] == "Plan a trip."
    assert params["required"] == ["city", "nights"]
    assert params["properties"]["city"] == {"type": "string", "description": "where to go (any city)"}
    assert params["properties"]["nights"] == {"type": "integer", "description": "how long"}
    assert params["properties"]["budget"] == {"type": ["number", "null"], "default": None}
    assert params["properties"]["tags"]["items"] == {"type": "string"}
    assert params["properties"]["mode"] == {"type": "string", "enum": ["train", "car"], "default": "train"}
    assert params["properties"]["trip"]["anyOf"][0]["required"] == ["origin", "stops"]
    compile_schema(params, tiny_tokenizer())  # the scaffold lays it out


def test_unsupported_parameter_type_names_the_parameter():
    def f(data: dict):
        pass

    with pytest.raises(ValueError, match=r"f\(data\)"):
        function_schema(f)


def test_call_tool_reports_errors_as_text():
    assert call_tool(lambda x: x * 2, {"x": 2}) == "4"
    assert call_tool(lambda x: "plain", {"x": 1}) == "plain"
    assert call_tool(lambda x: 1 / 0, {"x": 1}).startswith("error: ZeroDivisionError")
    assert call_tool(lambda x: x, {"y": 1}).startswith("error: TypeError")
