#!/usr/bin/env bash
# Usage: deploy/check-runtime-libraries.sh BINARY [CONTAINERFILE]
#
# Checks that the final stage of deploy/Containerfile can run BINARY: every shared library
# `ldd BINARY` resolves must come from a Debian package that stage has, meaning the packages of
# its `apt-get install` line, the libc6, libgcc-s1 and libstdc++6 of debian:bookworm-slim, and
# what those depend on, or be a Swift runtime library that the image links statically
# (--static-swift-stdlib in the build stage, with a static archive of it in the toolchain).
# BINARY may be a debug build linked against the Swift runtime dynamically: its Swift libraries
# are then checked for static counterparts, and the system libraries they pull in are checked
# like the binary's own. Exits 1 naming each library the image would lack.
set -euo pipefail

binary=${1:?usage: deploy/check-runtime-libraries.sh BINARY [CONTAINERFILE]}
containerfile=${2:-$(dirname "$0")/Containerfile}
[[ -x $binary ]] || { echo "error: $binary is not an executable file" >&2; exit 1; }
[[ -f $containerfile ]] || { echo "error: $containerfile does not exist" >&2; exit 1; }

# The stages of the Containerfile, with continuation lines joined.
joined=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$containerfile")
runtime_stage=$(awk 'tolower($1) == "from" { stage = tolower($NF) } stage == "runtime"' <<<"$joined")
build_stage=$(awk 'tolower($1) == "from" { stage = tolower($NF) } stage == "build"' <<<"$joined")
[[ -n $runtime_stage ]] || { echo "error: $containerfile has no stage named 'runtime'" >&2; exit 1; }

# Package names after `apt-get install` up to the end of that command (&&, ; or the line's end).
installed=$(grep -o 'apt-get install[^&;]*' <<<"$runtime_stage" | sed 's/apt-get install//' | tr ' ' '\n' \
    | grep -v '^-' | grep -v '^$' || true)
[[ -n $installed ]] || { echo "error: no 'apt-get install' in the runtime stage of $containerfile" >&2; exit 1; }
base_packages="libc6 libgcc-s1 libstdc++6"

# The first alternative of each Depends/Pre-Depends entry: what apt installs when none is there.
depends_of() {
    local fields
    fields=$(dpkg-query -W -f='${Pre-Depends}, ${Depends}\n' "$1" 2>/dev/null \
        || apt-cache show --no-all-versions "$1" 2>/dev/null | awk '/^(Pre-)?Depends:/ { sub(/^[^:]*: /, ""); printf "%s, ", $0 }')
    tr ',' '\n' <<<"$fields" | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' | grep -v '^$' || true
}
for package in $installed; do
    if ! dpkg-query -W "$package" >/dev/null 2>&1 && ! apt-cache show --no-all-versions "$package" >/dev/null 2>&1; then
        echo "error: the runtime stage installs '$package', which neither dpkg nor apt knows here (run apt-get update?)" >&2
        exit 1
    fi
done
declare -A provided=()
queue=($installed $base_packages)
while ((${#queue[@]})); do
    package=${queue[0]}
    queue=("${queue[@]:1}")
    [[ -n ${provided[$package]:-} ]] && continue
    provided[$package]=1
    for dependency in $(depends_of "$package"); do
        [[ -z ${provided[$dependency]:-} ]] && queue+=("$dependency")
    done
done
echo "runtime stage installs: $(echo $installed) (+ $base_packages from the base image); with dependencies ${#provided[@]} packages"

static_stdlib=no
grep -q -- '--static-swift-stdlib' <<<"$build_stage" && static_stdlib=yes

# Every library ldd resolves, as "name path" lines ("name not-found" where it resolves none).
libraries=$(ldd "$binary" | awk '
    /linux-vdso/ { next }
    /not found/ { print $1, "not-found"; next }
    /=>/ { print $1, $3; next }
    NF { n = split($1, parts, "/"); print parts[n], $1 }')

# The path as given, resolved, and their /usr-merged twins: dpkg knows each file by one of them.
candidates_of() {
    local path=$1 resolved
    resolved=$(readlink -f "$path")
    for candidate in "$path" "$resolved"; do
        echo "$candidate"
        case $candidate in
            /usr/lib/*) echo "${candidate#/usr}" ;;
            /lib/* | /lib64/*) echo "/usr$candidate" ;;
        esac
    done
}
# One dpkg -S for every candidate (it reads the whole file list on each call).
declare -A owners=()
mapfile -t all_candidates < <(while read -r _ path; do [[ $path == /* ]] && candidates_of "$path"; done <<<"$libraries" | sort -u)
while IFS= read -r line; do
    [[ $line == diversion* ]] && continue
    owners[${line#*: }]=$(cut -d: -f1 <<<"${line%%: *}" | cut -d, -f1)
done < <(dpkg -S "${all_candidates[@]}" 2>/dev/null || true)
owner_of() {
    local candidate
    for candidate in $(candidates_of "$1"); do
        [[ -n ${owners[$candidate]:-} ]] && { echo "${owners[$candidate]}"; return 0; }
    done
    return 1
}

failures=0
checked=0
while read -r name path; do
    if [[ $path == not-found ]]; then
        echo "MISSING: $name is not found on this machine either"
        failures=$((failures + 1))
        continue
    fi
    checked=$((checked + 1))
    if [[ $path == */lib/swift/linux/* ]]; then
        archive="$(dirname "$path")/../../swift_static/linux/${name%%.so*}.a"
        if [[ $static_stdlib == yes && -f $archive ]]; then
            echo "  $name: Swift runtime, linked into the image's binary by --static-swift-stdlib"
        elif [[ $static_stdlib == yes ]]; then
            echo "MISSING: $name ($path) is a Swift runtime library without a static archive ($archive); the image would lack it"
            failures=$((failures + 1))
        else
            echo "MISSING: $name ($path) is a Swift runtime library, and the build stage does not use --static-swift-stdlib"
            failures=$((failures + 1))
        fi
        continue
    fi
    if ! owner=$(owner_of "$path"); then
        echo "MISSING: $name ($path) belongs to no Debian package; the image would lack it"
        failures=$((failures + 1))
    elif [[ -z ${provided[$owner]:-} ]]; then
        echo "MISSING: $name ($path) comes from the Debian package $owner, which the runtime stage does not install"
        failures=$((failures + 1))
    else
        echo "  $name: $owner"
    fi
done <<<"$libraries"

if ((failures)); then
    echo "runtime libraries: $failures of $checked libraries of $binary would be missing in the image; add their packages to the runtime stage's apt-get install line of $containerfile" >&2
    exit 1
fi
echo "runtime libraries: all $checked libraries of $binary are provided by the image"
