#!/usr/bin/env bash
# Assembles the container image's root filesystem in dist/rootfs (the Dockerfile copies exactly
# this directory into a `FROM scratch` image):
#
#   /usr/local/bin/deploylink            the static Linux binary of scripts/dist.sh
#   /etc/ssl/certs/ca-certificates.crt   the build machine's CA bundle
#   /tmp                                 mode 1777 (the demo's sample repository, temporary files)
#
# Nothing else: no shell, no libc, no NSS modules. With `--check` (root needed), it then runs
# `deploylink --version` and `deploylink demo` inside that directory with chroot, which is how
# the image is tested where no container engine runs.
#
# usage: bash scripts/image-rootfs.sh [--check] [TARGET]   (TARGET default: x86_64-unknown-linux-gnu)
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
if [ "${1:-}" = "--check" ]; then
  check=true
  shift
fi
target=${1:-x86_64-unknown-linux-gnu}
binary="target/$target/dist/deploylink"
if [ ! -x "$binary" ]; then
  bash scripts/dist.sh "$target"
fi
bundle=""
for candidate in "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
  if [ -n "$candidate" ] && [ -s "$candidate" ]; then
    bundle=$candidate
    break
  fi
done
if [ -z "$bundle" ]; then
  echo "error: no CA bundle on this machine (install ca-certificates, or set SSL_CERT_FILE)" >&2
  exit 1
fi

rootfs=dist/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$binary" "$rootfs/usr/local/bin/deploylink"
cp "$bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
echo "$rootfs: $(find "$rootfs" -type f | wc -l) files"

if $check; then
  chroot "$rootfs" /usr/local/bin/deploylink --version
  chroot "$rootfs" /usr/local/bin/deploylink demo >dist/rootfs-demo.out
  grep -q 'WEB-102' dist/rootfs-demo.out
  echo "deploylink demo ran in $rootfs (chroot)"
fi
