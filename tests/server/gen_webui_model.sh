#!/usr/bin/env bash
# Writes the model the web page's browser test chats with (a CTest fixture): an answer must last long enough to
# press Stop in the middle of it, which the tiny trained model's 256-token answers don't. One llama-1b-shaped
# layer with random weights decodes a few hundred tokens/s on 2 cores and, greedy, runs to 8000 tokens without
# an end token; the vocabulary (with its ChatML template, which chat completions need) is the tiny model's.
# 35 MB, written in about a second, so it is made here rather than kept with the test data.
# usage: gen_webui_model.sh STRATA_BINARY DEFAULT_TESTDATA OUT.gguf   ($STRATA_TESTDATA overrides the default)
set -euo pipefail
vocab="${STRATA_TESTDATA:-$2}/models/tiny-llama-q8_0.gguf"
if [ ! -f "$vocab" ]; then echo "SKIP: $vocab not found (set STRATA_TESTDATA)"; exit 77; fi
mkdir -p "$(dirname "$3")"
exec "$1" gen-model --shape llama-1b --layers 1 --ctx 8192 --dtype q4_0 --seed 1 --vocab "$vocab" -o "$3"
