#!/usr/bin/env bash
# Builds quants_vs_ggml.cpp against Strata's core library and a llama.cpp build's libggml-base, and runs it.
#   bench/llama_cpp/quants_vs_ggml.sh STRATA_BUILD_DIR LLAMA_CPP_SRC_DIR LLAMA_CPP_BUILD_DIR
# e.g. after `git clone .../node-llama-cpp/llama/gitRelease.bundle /tmp/llama-src` and a cmake build of it in
# /tmp/llama-src/build (any target that builds ggml-base, e.g. llama-quantize):
#   bench/llama_cpp/quants_vs_ggml.sh build /tmp/llama-src /tmp/llama-src/build
set -euo pipefail
[[ $# -eq 3 ]] || { sed -n 2,6p "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
strata_build=$1 llama_build=$3
lib=$(dirname "$(find "$llama_build" -name 'libggml-base.so' | head -n 1)")
[[ -n "$lib" && -f "$lib/libggml-base.so" ]] || { echo "no libggml-base.so under $llama_build" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
g++ -O2 -std=c++20 -I"$here/../../src" "$here/quants_vs_ggml.cpp" "$strata_build/src/core/libstrata_core.a" \
  -L"$lib" -lggml-base -Wl,-rpath,"$lib" -lpthread -o "$out/quants_vs_ggml"
"$out/quants_vs_ggml"
