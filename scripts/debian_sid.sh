#!/usr/bin/env bash
# Python 3.14 and 3.15 as Debian ships them, for the test suite: a Debian sid root folder made
# with debootstrap, entered with chroot (root only; the host must reach Debian's archive).
#
#   scripts/debian_sid.sh setup            make the folder (once; later calls reuse it)
#   scripts/debian_sid.sh put FILE...      copy files into the folder's /work/files
#   scripts/debian_sid.sh run COMMAND...   copy this checkout into the folder and run COMMAND
#                                          there, in the copy, with a clean environment
#
# The folder is $SAGELLM_SID_ROOT (default /var/tmp/sagellm-sid/root). Inside, the checkout is
# /work/repo (replaced on every run) and virtual environments go under /work.
set -euo pipefail

ROOT_DIR=${SAGELLM_SID_ROOT:-/var/tmp/sagellm-sid/root}
MIRROR=${SAGELLM_SID_MIRROR:-http://deb.debian.org/debian}
PACKAGES=(python3.14 python3.14-venv python3.14-dev python3.15 python3.15-venv python3.15-dev
    gcc libc6-dev git ca-certificates)
# sid's Release file may be older than its Valid-Until on a mirror that lags: the archive's
# signatures are still checked, only the freshness date is not.
APT=(apt-get -q -o Acquire::Check-Valid-Until=false -o Acquire::Retries=3)
HERE=$(cd "$(dirname "$0")/.." && pwd)

in_root() {
    chroot "$ROOT_DIR" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root \
        LANG=C.UTF-8 CI="${CI:-}" DEBIAN_FRONTEND=noninteractive \
        SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
        PIP_DISABLE_PIP_VERSION_CHECK=1 /bin/bash -c "$1"
}

setup() {
    if [ ! -x "$ROOT_DIR/usr/bin/python3.15" ]; then
        command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q debootstrap; }
        if [ ! -x "$ROOT_DIR/bin/bash" ]; then
            mkdir -p "$ROOT_DIR"
            for attempt in 1 2 3; do
                debootstrap --variant=minbase sid "$ROOT_DIR" "$MIRROR" >/dev/null && break
                echo "debootstrap failed (attempt $attempt)" >&2
                [ "$attempt" = 3 ] && exit 1
                rm -rf "$ROOT_DIR" && mkdir -p "$ROOT_DIR"
            done
        fi
        cp /etc/resolv.conf "$ROOT_DIR/etc/resolv.conf"
        in_root "${APT[*]} update >/dev/null && ${APT[*]} install -y --no-install-recommends ${PACKAGES[*]} >/dev/null"
    fi
    # The host's certificate bundle: pip inside verifies the registry as the host does.
    cp /etc/resolv.conf "$ROOT_DIR/etc/resolv.conf"
    cp /etc/ssl/certs/ca-certificates.crt "$ROOT_DIR/etc/ssl/certs/ca-certificates.crt"
    in_root 'python3.14 --version && python3.15 --version'
}

unmount() {
    for target in "$ROOT_DIR/dev" "$ROOT_DIR/proc"; do
        if mountpoint -q "$target"; then umount -R "$target" || umount -lR "$target"; fi
    done
}

run() {
    setup >/dev/null
    unmount
    trap unmount EXIT
    mount -t proc proc "$ROOT_DIR/proc"
    mount --rbind /dev "$ROOT_DIR/dev"  # /dev/null, /dev/pts (the progress tests use a pty)
    rm -rf "$ROOT_DIR/work/repo" && mkdir -p "$ROOT_DIR/work/repo"
    # Tracked files and new ones not ignored, as they are in the working tree.
    (cd "$HERE" && git ls-files -z --cached --others --exclude-standard |
        tar --null -T - -cf - 2>/dev/null) | tar -xf - -C "$ROOT_DIR/work/repo"
    in_root "cd /work/repo && $*"
}

put() {
    setup >/dev/null
    rm -rf "$ROOT_DIR/work/files" && mkdir -p "$ROOT_DIR/work/files"
    cp "$@" "$ROOT_DIR/work/files/"
}

case "${1:-}" in
    setup) setup ;;
    put) shift && put "$@" ;;
    run) shift && run "$@" ;;
    *) echo "usage: $0 setup | put FILE... | run COMMAND..." >&2 && exit 2 ;;
esac
