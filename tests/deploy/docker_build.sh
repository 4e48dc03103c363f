#!/usr/bin/env bash
# Builds deploy/Dockerfile from the source tree and runs the image's `strata --help` and `strata router --help`.
# Exit 77 (CTest's skip) when docker is not installed or its daemon cannot be reached. Slow: the build stage
# runs scripts/setup.sh (apt and a full Release build), so the test is labelled "slow".
# usage: docker_build.sh SOURCE_DIR
set -uo pipefail
src=$1
command -v docker >/dev/null || { echo "SKIP: docker not installed"; exit 77; }
docker info >/dev/null 2>&1 || { echo "SKIP: the docker daemon cannot be reached"; exit 77; }
tag="strata-test:$$"
trap 'docker image rm -f "$tag" >/dev/null 2>&1' EXIT
DOCKER_BUILDKIT=1 docker build -f "$src/deploy/Dockerfile" -t "$tag" "$src" || { echo "docker build failed"; exit 1; }
docker run --rm "$tag" --help | grep -q "router" || { echo "the image's strata has no router command"; exit 1; }
docker run --rm "$tag" router --help | grep -q -- "--backends-file" || { echo "strata router --help failed in the image"; exit 1; }
echo "image built; strata runs in it"
