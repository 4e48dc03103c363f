#!/usr/bin/env bash
# Installs every Debian package Strata uses, then configures and builds it (Release, in ./build).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config
          libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
          googletest libgtest-dev libgmock-dev
          libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
          libpcre2-dev libicu-dev  # BPE pre-tokenizer regexes, tokenizer.json normalizers
          libyaml-cpp-dev  # strata serve --coe: the Composition of Experts config
          libreadline-dev tmux  # strata chat's line editing; its tests drive it through a tmux terminal
          libopenmpi-dev openmpi-bin  # multi-process tensor and pipeline parallelism (mpirun)
          prometheus curl
          python3 python3-numpy python3-torch libopenblas0-pthread  # independent references the tests compute with
          clang libclang-rt-14-dev llvm)  # .ci/run's sanitizer and fuzz builds (libFuzzer, TSan, llvm-symbolizer)

# Node.js runs the official openai client and the Kubernetes manifest check in tests; the machine's own node is
# kept when there is one. SKIP_NPM=1 (the container build, deploy/Dockerfile) leaves Node.js out.
[ -n "${SKIP_NPM:-}" ] || command -v npm >/dev/null || PACKAGES+=(nodejs npm)
# Debian's chromium, driven headless by npm playwright-core, runs the web chat page's browser test.
[ -n "${SKIP_NPM:-}" ] || PACKAGES+=(chromium)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} ${CMAKE_ARGS:-}
cmake --build "$BUILD_DIR"

# The official OpenAI client for the server's end-to-end test, in a scratch folder inside the build dir.
if [ -z "${SKIP_NPM:-}" ] && command -v npm >/dev/null && [ ! -d "$BUILD_DIR/js/node_modules/openai" ]; then
  npm install --prefix "$BUILD_DIR/js" --no-audit --no-fund --silent openai@4 || echo "npm install openai failed: its test will be skipped"
fi
# playwright-core drives the chromium installed above (it never downloads a browser; the variable makes sure).
if [ -z "${SKIP_NPM:-}" ] && command -v npm >/dev/null && [ ! -d "$BUILD_DIR/js/node_modules/playwright-core" ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$BUILD_DIR/js" --no-audit --no-fund --silent playwright-core@1 \
    || echo "npm install playwright-core failed: the web page's browser test will be skipped"
fi
# Kubernetes' own schemas (kubernetes-models, validated with ajv) and a YAML parser for the deploy/k8s check.
if [ -z "${SKIP_NPM:-}" ] && command -v npm >/dev/null && [ ! -d "$BUILD_DIR/js/node_modules/kubernetes-models" ]; then
  npm install --prefix "$BUILD_DIR/js" --no-audit --no-fund --silent kubernetes-models@5 yaml@2 \
    || echo "npm install kubernetes-models failed: the manifest check will be skipped"
fi
