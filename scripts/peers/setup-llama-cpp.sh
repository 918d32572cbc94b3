#!/usr/bin/env bash
# Builds the llama.cpp peer once and caches it under .peers/ (gitignored):
#   - the llama.cpp sources vendored in the pinned llama-cpp-python sdist, compiled with cmake for
#     this CPU (-DGGML_NATIVE=ON) as shared libraries plus llama-bench, llama-batched-bench and
#     llama-server;
#   - llama-cpp-python itself (same pinned version) installed into the Python environment without
#     its own copy of llama.cpp (-DLLAMA_BUILD=OFF); it loads the native build above through
#     LLAMA_CPP_LIB_PATH, so llama.cpp is compiled once and Python and the tools run the same code;
#   - the `gguf` package (pinned) that scripts/peers/convert_gguf.py writes GGUF files with.
# Installs cmake and a C/C++ compiler with apt-get when missing (fresh Debian after setup.sh).
# Prints nothing but errors on a cached run; the build takes 15-30 minutes on 2 cores.
#   scripts/peers/setup-llama-cpp.sh        then: source .peers/env.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"

LLAMA_CPP_PYTHON_VERSION=0.3.36   # vendors llama.cpp; its sources are what we build
GGUF_VERSION=0.19.0
root=.peers
src="$root/src/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION"
build="$root/llama.cpp-$LLAMA_CPP_PYTHON_VERSION"
log="$root/build.log"
mkdir -p "$root/src"

need_apt=()
command -v cmake >/dev/null || need_apt+=(cmake)
command -v g++ >/dev/null || need_apt+=(g++)
command -v cc >/dev/null || need_apt+=(gcc)
if ((${#need_apt[@]})); then
    echo "installing ${need_apt[*]} with apt-get" >&2
    sudo_=""; [[ $(id -u) == 0 ]] || sudo_=sudo
    $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq "${need_apt[@]}" >&2
fi

# Sources: the sdist, downloaded once.
if [[ ! -f "$src/vendor/llama.cpp/CMakeLists.txt" ]]; then
    "$PYTHON" -m pip download --quiet --no-binary :all: --no-deps \
        "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$root/src"
    tar -xzf "$root/src/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz" -C "$root/src"
fi

# Native build of the tools and shared libraries. No network at run time: no curl, no HTTPS,
# no web UI download for the server.
tools=(llama-bench llama-batched-bench llama-server)
if [[ ! -x "$build/bin/llama-server" || ! -x "$build/bin/llama-batched-bench" || ! -x "$build/bin/llama-bench" ]]; then
    echo "building llama.cpp (vendored in llama-cpp-python $LLAMA_CPP_PYTHON_VERSION) into $build; log: $log" >&2
    nice -n 19 cmake -S "$src/vendor/llama.cpp" -B "$build" -DCMAKE_BUILD_TYPE=Release \
        -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF \
        -DLLAMA_USE_PREBUILT_UI=OFF >"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
    nice -n 19 cmake --build "$build" -j "$(nproc)" --target "${tools[@]}" llama >>"$log" 2>&1 \
        || { tail -30 "$log" >&2; exit 1; }
fi

# Python side: gguf for the converter; llama-cpp-python without a bundled library.
if ! "$PYTHON" - "$GGUF_VERSION" "$LLAMA_CPP_PYTHON_VERSION" <<'PY'
import importlib.metadata as md, sys
try:
    ok = md.version("gguf") == sys.argv[1] and md.version("llama_cpp_python") == sys.argv[2]
except md.PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
PY
then
    echo "installing gguf==$GGUF_VERSION and llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION (library from $build)" >&2
    CMAKE_ARGS="-DLLAMA_BUILD=OFF -DLLAVA_BUILD=OFF" nice -n 19 "$PYTHON" -m pip install --quiet \
        "gguf==$GGUF_VERSION" "$root/src/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
fi

# What callers source: where the tools and the library are.
cat >"$root/env.sh" <<ENV
export LLAMA_CPP_BIN="$(pwd)/$build/bin"
export LLAMA_CPP_LIB_PATH="$(pwd)/$build/bin"
export LLAMA_CPP_VERSION="llama.cpp $(grep -m1 -o 'llama.cpp@[0-9a-f]*' "$src/CHANGELOG.md" | cut -d@ -f2) (vendored in llama-cpp-python $LLAMA_CPP_PYTHON_VERSION)"
ENV
