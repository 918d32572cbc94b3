#!/usr/bin/env bash
# Usage: deploy/check-container.sh BINARY
#
# Builds the final (runtime) stage of deploy/Containerfile with podman around an already built
# BINARY, and runs it: `--version`, the user it runs as, then the default command (`up`: router
# and two workers) until GET /health answers 200 and a completion comes back through the
# published port, and a graceful stop. It takes minutes and needs podman and network access to
# a Debian mirror, so CI does not run it; CI runs deploy/check-runtime-libraries.sh instead.
#
# BINARY must link the Swift runtime statically, as the build stage does:
#   swift build -c release --product radixserve --static-swift-stdlib -Xswiftc -target-cpu -Xswiftc haswell
#
# The build stage itself (the Swift toolchain image) is not exercised. Without a pullable
# debian:bookworm-slim (RUNTIME_IMAGE), a bookworm minbase made with debootstrap stands in.
# PODMAN_GLOBAL_FLAGS passes flags to every podman call (e.g. "--runtime runc" where crun cannot
# run containers, as on hosts with hybrid cgroups).
set -euo pipefail

binary=$(readlink -f "${1:?usage: deploy/check-container.sh BINARY}")
root=$(cd "$(dirname "$0")/.." && pwd)
read -r -a podman_flags <<<"${PODMAN_GLOBAL_FLAGS:-}"
podman() { command podman "${podman_flags[@]}" "$@"; }
command -v podman >/dev/null || { echo "error: podman is not installed (apt-get install podman)" >&2; exit 1; }
if ldd "$binary" | grep -q 'libswiftCore'; then
    echo "error: $binary links the Swift runtime dynamically; build it with --static-swift-stdlib" >&2
    exit 1
fi

scratch=$(mktemp -d)
container=""
cleanup() {
    [[ -n $container ]] && podman rm -f "$container" >/dev/null 2>&1 || true
    rm -rf "$scratch"
}
trap cleanup EXIT
# The rlimits podman asks for by default may exceed what this host lets a container set: ask
# for this shell's open-file limit and 4096 processes (threads count), plenty for `up`.
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=4096:4096")

base=${RUNTIME_IMAGE:-}
if [[ -z $base ]]; then
    base=localhost/radixserve-check-base:bookworm
    if ! podman image exists "$base"; then
        echo "making $base with debootstrap (bookworm, minbase)"
        debootstrap --variant=minbase bookworm "$scratch/rootfs" http://deb.debian.org/debian >"$scratch/debootstrap.log" 2>&1 \
            || { tail -20 "$scratch/debootstrap.log" >&2; exit 1; }
        tar -C "$scratch/rootfs" -c . | podman import - "$base" >/dev/null
        rm -rf "$scratch/rootfs"
    fi
fi

# The runtime stage as written, taking from the build context what the build stage would stage.
mkdir -p "$scratch/context/staging/usr/local/bin" "$scratch/context/staging/opt/radixserve/models"
install -m 0755 "$binary" "$scratch/context/staging/usr/local/bin/radixserve"
cp -r "$root/models/demo" "$scratch/context/staging/opt/radixserve/models/demo"
awk '/^FROM/ { stage = tolower($NF) } /^ARG RUNTIME_IMAGE/ || stage == "runtime"' "$root/deploy/Containerfile" \
    | sed 's|^COPY --from=build /staging/ /$|COPY staging/ /|' > "$scratch/context/Containerfile"
grep -q '^COPY staging/ /$' "$scratch/context/Containerfile" \
    || { echo "error: the runtime stage no longer copies /staging/ from the build stage; update this script" >&2; exit 1; }

image=localhost/radixserve:check
echo "building the runtime stage on $base"
podman build "${limits[@]}" --build-arg "RUNTIME_IMAGE=$base" -t "$image" -f "$scratch/context/Containerfile" "$scratch/context" \
    >"$scratch/build.log" 2>&1 || { tail -30 "$scratch/build.log" >&2; exit 1; }

version=$(podman run --rm "${limits[@]}" "$image" --version)
echo "radixserve --version in the image: $version"
user=$(podman run --rm "${limits[@]}" --entrypoint id "$image" -u)
[[ $user == 10001 ]] || { echo "error: the image runs as uid $user, not 10001" >&2; exit 1; }
echo "runs as uid $user"

port=$((20000 + RANDOM % 20000))
container=$(podman run -d "${limits[@]}" -p "127.0.0.1:$port:8000" "$image")
echo "default command (up) in container ${container:0:12}, published on 127.0.0.1:$port"
for _ in $(seq 1 120); do
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
    [[ $status == 200 ]] && break
    sleep 1
done
[[ $status == 200 ]] || { podman logs "$container" >&2; echo "error: /health never answered 200 (last: $status)" >&2; exit 1; }
echo "GET /health: 200"
completion=$(curl -s "http://127.0.0.1:$port/v1/completions" -H 'Content-Type: application/json' \
    -d '{"prompt": "Once upon a time", "max_tokens": 8}')
grep -q '"choices"' <<<"$completion" || { echo "error: no completion: $completion" >&2; exit 1; }
echo "POST /v1/completions: $completion"
podman stop -t 30 "$container" >/dev/null
code=$(podman inspect -f '{{.State.ExitCode}}' "$container")
[[ $code == 0 ]] || { podman logs "$container" >&2; echo "error: up exited $code on SIGTERM" >&2; exit 1; }
echo "stopped with SIGTERM: exit 0"
echo "container: the runtime stage builds and serves"
