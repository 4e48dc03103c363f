#!/usr/bin/env bash
# Tokenizer throughput, Strata next to llama.cpp on the same vocabulary and text in the same run: a 1 MiB text
# (the repository's own sources and docs, cut at a character boundary) through the Llama-3 vocab.gguf by
# default. Needs a built build/bench/strata_microbench and llama.cpp from bench/llama_cpp/setup.sh.
#
# Usage: bench/tokenize_throughput.sh [VOCAB.gguf] [LLAMA_CPP_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
vocab=${1:-../shared/testdata/tokenizer-hf/llama3/vocab.gguf}
llama_dir=${2:-/tmp/strata-llama-cpp}
build=${BUILD_DIR:-build}
text=$(mktemp --suffix=.txt)
trap 'rm -f "$text"' EXIT

git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' '*.md' | xargs cat |
  python3 -c 'import sys; b = sys.stdin.buffer.read()[:1 << 20]; sys.stdout.buffer.write(b.decode("utf-8", "ignore").encode())' >"$text"

STRATA_TOKENIZE_VOCAB=$vocab STRATA_TOKENIZE_TEXT=$text "$build/bench/strata_microbench" \
  --gtest_filter=TokenizerBench.BpeThroughput | grep '^{'
cp bench/llama_cpp/tokenize.mjs "$llama_dir/tokenize.mjs"
node "$llama_dir/tokenize.mjs" --model "$vocab" --text "$text"
