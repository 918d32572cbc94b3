#!/usr/bin/env bash
# Installs the Debian packages RadixServe builds against (idempotent; needs root or sudo).
set -euo pipefail

# OpenCL: headers and loader for the OpenCL plugin, PoCL as a CPU OpenCL device to run it on.
# iproute2: MultiHostTests puts router, workers and a rank in network namespaces of their own.
# systemd: systemd-analyze, which deploy/check-systemd.sh verifies the units with.
packages=(libzmq3-dev libopenblas-dev pkg-config ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo iproute2 systemd)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
command -v swift >/dev/null || { echo "error: swift (6.0 or newer) is not on PATH" >&2; exit 1; }

# The cluster tests drive the router with the official OpenAI Python client.
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import openai" 2>/dev/null; then
    echo "installing the openai Python client (for the cluster tests)"
    "$PYTHON" -m pip install -q "openai==3.57.0"
fi
# examples/python-worker (a worker in Python; PythonWorkerTests runs it) talks ZeroMQ through pyzmq and hashes
# pages with xxhash.
if ! "$PYTHON" -c "import zmq, xxhash" 2>/dev/null; then
    echo "installing pyzmq and xxhash (for examples/python-worker and its tests)"
    "$PYTHON" -m pip install -q -r "$(dirname "$0")/../examples/python-worker/requirements.txt"
fi
# scripts/certify.sh validates certify's JSON reports against docs/certify-report.schema.json.
if ! "$PYTHON" -c "import jsonschema" 2>/dev/null; then
    echo "installing jsonschema (for scripts/certify.sh)"
    "$PYTHON" -m pip install -q "jsonschema==4.26.0"
fi
# deploy/check-kubernetes.sh validates the Kubernetes manifests against the schemas this bundles.
if ! "$PYTHON" -c "import kubernetes_validate" 2>/dev/null; then
    echo "installing kubernetes-validate (for deploy/check-kubernetes.sh)"
    "$PYTHON" -m pip install -q "kubernetes-validate==1.37.0"
fi
