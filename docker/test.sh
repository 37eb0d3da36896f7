#!/usr/bin/env bash
# Builds the images (docker/Dockerfile) with podman and runs the README's Docker commands against
# a folder holding the shipped examples (examples/churn.csv, examples/chinook/), then checks what
# they wrote: models, row counts, and keys of the linked tables. Prints the image sizes.
#
#   docker/test.sh                                # base image made here (debootstrap), see below
#   BASE=python:3.11-slim-bookworm docker/test.sh  # where a registry is reachable
#
# Without BASE, the base is Debian bookworm made by debootstrap from the Debian mirror and
# imported into podman once per machine (localhost/syngen-base:bookworm; later runs reuse it, as
# they reuse podman's layer cache). It trusts the certificate authorities this machine trusts
# (/usr/local/share/ca-certificates), so that pip can reach PyPI from inside a build here.
#
# Where 'podman run' cannot start a container (a sandbox that refuses to set the container's
# resource limits: "crun: setrlimit: Operation not permitted"), each command runs the image's
# entrypoint, as its user, in its working folder, with its environment, inside a container's
# root filesystem (podman mount + chroot), the examples' folder bind-mounted at
# /src/model_artifacts as 'docker run -v' would.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null || { echo "docker/test.sh: needs $1 (apt-get install $2)" >&2; exit 1; }; }
need podman podman
export BUILDAH_ISOLATION=chroot  # builds without a container runtime's namespaces

base="${BASE:-}"
if [ -z "$base" ]; then
    base=localhost/syngen-base:bookworm
    if ! podman image exists "$base"; then
        need debootstrap debootstrap
        rootfs=$(mktemp -d /tmp/syngen-base.XXXXXX)
        debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
            bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
        cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
        chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
            "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/locale
        tar -C "$rootfs" -c . | podman import --quiet --change "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt" - "$base" >/dev/null
        rm -rf "$rootfs"
    fi
fi

for target in syngen-train syngen-infer syngen; do
    podman build --quiet --isolation chroot --build-arg "BASE=$base" -f docker/Dockerfile \
        --target "$target" -t "$target" . >/dev/null
done

work=$(mktemp -d /tmp/syngen-docker.XXXXXX)
folder="$work/model_artifacts"
mounts=()
cleanup() {
    local m
    for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$folder"
cp examples/churn.csv "$folder/"
cp -r examples/chinook "$folder/chinook"
chmod -R a+rwX "$folder"  # the images run as an unprivileged user (uid 1000)

if podman run --rm --network host syngen --help >/dev/null 2>&1; then
    run() {  # IMAGE ARGS...: as 'docker run --rm -v FOLDER:/src/model_artifacts IMAGE ARGS' (entrypoint=X: --entrypoint X)
        local image=$1
        shift
        podman run --rm --network host -v "$folder:/src/model_artifacts" \
            ${entrypoint:+--entrypoint "$entrypoint"} "$image" "$@"
    }
else
    echo "podman run cannot start containers here; running each image's entrypoint in its root filesystem (chroot)"
    run() {
        local image=$1 container root user uid config
        shift
        container=$(podman create "$image")
        root=$(podman mount "$container")
        mount --bind "$folder" "$root/src/model_artifacts" && mounts=("$root/src/model_artifacts" "${mounts[@]}")
        mount -t proc proc "$root/proc" && mounts=("$root/proc" "${mounts[@]}")
        mount --rbind /dev "$root/dev" && mounts=("$root/dev" "${mounts[@]}")
        mount --rbind /sys "$root/sys" && mounts=("$root/sys" "${mounts[@]}")  # CPU counts (joblib)
        mount -t tmpfs tmpfs "$root/tmp" && mounts=("$root/tmp" "${mounts[@]}")
        cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
        config=$(podman image inspect --format '{{json .Config}}' "$image")
        user=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("User") or "root")' "$config")
        uid=$(awk -F: -v u="$user" '$1 == u || $3 == u {print $3 ":" $4; exit}' "$root/etc/passwd")
        local status=0
        # shellcheck disable=SC2046  # the image's environment, one NAME=value a word
        chroot --userspec="$uid" "$root" /usr/bin/env -i $(python3 -c '
import json, sys; print(" ".join(json.loads(sys.argv[1])["Env"]))' "$config") \
            /bin/sh -c 'cd "$0" && exec "$@"' \
            "$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["WorkingDir"])' "$config")" \
            ${entrypoint:-$(python3 -c 'import json, sys; print(" ".join(json.loads(sys.argv[1])["Entrypoint"]))' "$config")} \
            "$@" || status=$?
        local m
        for m in "${mounts[@]}"; do umount -l "$m"; done
        mounts=()
        podman umount "$container" >/dev/null
        podman rm "$container" >/dev/null
        return $status
    }
fi

started=$(date +%s)
# the README's Docker commands, in its order
run syngen-train --table_name=churn --source=./model_artifacts/churn.csv
run syngen-infer --size=500 --table_name=churn
run syngen-train --metadata_path=./model_artifacts/chinook/metadata.yaml
run syngen-infer --metadata_path=./model_artifacts/chinook/metadata.yaml
run syngen-infer --metadata_path ./model_artifacts/chinook/metadata.yaml --output duckdb:///model_artifacts/chinook.duckdb
echo "five commands: $(($(date +%s) - started)) s"

# what they wrote, checked with the image's own Python
cp docker/check_outputs.py "$folder/"
entrypoint=python run syngen ./model_artifacts/check_outputs.py ./model_artifacts

podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '/syngen(-train|-infer)?:latest'
