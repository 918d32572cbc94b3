#!/usr/bin/env bash
# Usage: deploy/check-systemd.sh BINARY
#
# Verifies the units of deploy/systemd with `systemd-analyze verify`: copies of them, with
# ExecStart= pointing at BINARY (verify needs the executable to exist) and each template
# instantiated once, in a temporary directory. Fails on any line systemd-analyze prints about
# them (unknown or misspelled settings, bad values, missing executables), and when a worker's
# TimeoutStopSec= does not exceed the drain timeout of the example worker.env.
set -euo pipefail

binary=$(readlink -f "${1:?usage: deploy/check-systemd.sh BINARY}")
units_dir=$(cd "$(dirname "$0")/systemd" && pwd)
[[ -x $binary ]] || { echo "error: $binary is not an executable file" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "error: systemd-analyze is not installed (apt-get install systemd)" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
units=()
for unit in "$units_dir"/*.service; do
    name=$(basename "$unit")
    [[ $name == *@.service ]] && name=${name/@.service/@1.service}
    sed "s|/usr/local/bin/radixserve|$binary|g" "$unit" > "$scratch/$name"
    units+=("$scratch/$name")
done

failed=0
output=$(cd "$scratch" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "${units[@]}" 2>&1) || failed=1
# Lines about other units of this machine (verify loads their dependencies too) are not ours.
ours=$(grep -F -e "$scratch" -e radixserve <<<"$output" || true)
if [[ -n $output && $output != "$ours" ]]; then
    echo "systemd-analyze also said (about other units; not counted):"
    grep -v -F -e "$scratch" -e radixserve <<<"$output" | sed 's/^/    /'
fi
if [[ -n $ours || $failed -ne 0 ]]; then
    echo "systemd: systemd-analyze verify found problems in deploy/systemd:" >&2
    sed "s|$scratch/||g" <<<"${ours:-$output}" | sed 's/^/    /' >&2
    exit 1
fi
for unit in "${units[@]}"; do echo "  $(basename "$unit"): verified"; done

# TimeoutStopSec= of the worker unit against the drain timeout its example settings pass.
stop_timeout=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$units_dir/radixserve-worker@.service")
drain_timeout=$(sed -n 's/^RADIXSERVE_DRAIN_TIMEOUT=\([0-9]*\)$/\1/p' "$units_dir/worker.env")
if [[ -z $stop_timeout || -z $drain_timeout ]] || ((stop_timeout <= drain_timeout)); then
    echo "systemd: radixserve-worker@.service TimeoutStopSec=${stop_timeout:-unset} must exceed RADIXSERVE_DRAIN_TIMEOUT=${drain_timeout:-unset} of worker.env" >&2
    exit 1
fi
echo "  radixserve-worker@.service: TimeoutStopSec=$stop_timeout > drain timeout $drain_timeout"
echo "systemd: ${#units[@]} units verified"
