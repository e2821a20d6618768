"""Execution-provider choice: preference order, the override, and a clear error for a missing one."""

import pytest

from edgeagent.runtime.providers import ENV_VAR, choose_providers

ALL = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.mark.parametrize("available, chosen", [
    (ALL, "TensorrtExecutionProvider"),
    (ALL[1:], "CUDAExecutionProvider"),
    (["CPUExecutionProvider"], "CPUExecutionProvider"),
    (["CoreMLExecutionProvider", "CPUExecutionProvider"], "CPUExecutionProvider"),
])
def test_preference_order(available, chosen):
    got = choose_providers(available=available)
    assert got[0] == chosen and got[-1] == "CPUExecutionProvider"


def test_argument_and_env_override(monkeypatch):
    assert choose_providers("cpu", available=ALL) == ["CPUExecutionProvider"]
    monkeypatch.setenv(ENV_VAR, "cuda")
    assert choose_providers(available=ALL) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers("cpu", available=ALL) == ["CPUExecutionProvider"]  # the argument wins


def test_missing_provider_is_an_error(monkeypatch):
    with pytest.raises(ValueError, match="TensorrtExecutionProvider"):
        choose_providers("tensorrt", available=["CPUExecutionProvider"])
    monkeypatch.setenv(ENV_VAR, "cuda")
    with pytest.raises(ValueError, match=ENV_VAR):
        choose_providers(available=["CPUExecutionProvider"])


def test_real_onnxruntime_offers_a_choice():
    assert choose_providers()[-1] == "CPUExecutionProvider"
