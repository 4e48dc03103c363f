#!/usr/bin/env bash
# Installs llama.cpp for side-by-side benchmarks (`strata bench -m FILE --llama-cpp DIR`, bench/results.sh): the
# prebuilt CPU binaries of the node-llama-cpp npm package (no compiler, no install scripts) and our runner
# bench.mjs, into DIR (default /tmp/strata-llama-cpp), outside the repository. Nothing of it is committed: DIR
# gets a .gitignore of its own, should it be inside a checkout.
#
# Usage: bench/llama_cpp/setup.sh [DIR]
#   NODE_LLAMA_CPP_VERSION=3.22.1  the version our figures were measured with (the newest 3.x if it is gone)
#   NODE_LLAMA_CPP_ALL_BINARIES=1  also the optional CUDA/Vulkan/other-arch packages (~700 MB; CPU runs skip them)
# Rerun it after editing bench.mjs: the copy in DIR is what runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-/tmp/strata-llama-cpp}
want=${NODE_LLAMA_CPP_VERSION:-3.22.1}

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "setup.sh: $tool not found; install Node.js 20 or newer" >&2; exit 1; }
done

# The wanted version if the registry has it, else the newest 3.x.
version=$(npm view "node-llama-cpp@$want" version 2>/dev/null | tail -1 || true)
if [[ -z "$version" ]]; then
  version=$(npm view 'node-llama-cpp@^3' version --json 2>/dev/null |
    node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8") || "[]"); console.log([].concat(v).at(-1) ?? "")' || true)
  [[ -n "$version" ]] || { echo "setup.sh: npm has no node-llama-cpp 3.x (registry unreachable?)" >&2; exit 1; }
  echo "setup.sh: node-llama-cpp $want is not on the registry; using $version (figures may differ)" >&2
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
printf '*\n' >"$dir/.gitignore"  # ignored wherever it lies
[[ -f "$dir/package.json" ]] || printf '{ "private": true, "type": "module" }\n' >"$dir/package.json"

# Only the CPU binaries of this platform: the optional GPU and other-arch packages are skipped, the one for
# this machine is named (the package's binaries are @node-llama-cpp/<os>-<arch>, "mac" for darwin).
platform=$(node -p 'process.platform === "darwin" ? "mac" : process.platform === "win32" ? "win" : process.platform')
arch=$(node -p process.arch)
packages=("node-llama-cpp@$version")
flags=(--ignore-scripts --no-audit --no-fund --save-exact)
if [[ "${NODE_LLAMA_CPP_ALL_BINARIES:-0}" != 1 ]] && npm view "@node-llama-cpp/$platform-$arch@$version" version >/dev/null 2>&1; then
  packages+=("@node-llama-cpp/$platform-$arch@$version")
  flags+=(--omit=optional)
fi
echo "setup.sh: npm install ${packages[*]} into $dir" >&2
(cd "$dir" && npm install "${flags[@]}" "${packages[@]}" >&2)

# Copied, not linked: node resolves a linked script's imports from where the link points, the repository.
cp "$here/bench.mjs" "$dir/bench.mjs"

# The prebuilt binary must load on this CPU.
release=$(node "$dir/bench.mjs" --check | sed -E 's/.*"version":"([^"]*)".*/\1/')
echo "setup.sh: llama.cpp $release ready in $dir" >&2
echo "setup.sh: try  node $dir/bench.mjs --model FILE.gguf --threads 1 --prompt 512 --gen 128" >&2
echo "setup.sh:  or  build/src/cli/strata bench -m FILE.gguf --llama-cpp $dir" >&2
