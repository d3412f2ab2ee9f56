#!/usr/bin/env bash
# Builds the release archive of deploylink for one target (default: this machine's):
#
#   dist/deploylink-<version>-<target>.tar.gz   (.zip for Windows targets)
#   dist/deploylink-<version>-<target>.tar.gz.sha256   ("<hex>  <file name>", as sha256sum writes)
#
# The archive holds one directory, deploylink-<version>-<target>/, with deploylink (or
# deploylink.exe), README.md, LICENSE-MIT, LICENSE-APACHE, completions/ (bash, zsh, fish,
# elvish, powershell) and man/deploylink.1. The release workflow (.github/workflows/release.yml),
# the GitHub Action's download and `cargo binstall` rely on exactly these names.
#
# Built with the `dist` profile (fat LTO). Linux (glibc) and Windows (MSVC) binaries link the C
# runtime statically (`-C target-feature=+crt-static`); on Linux the result is checked to be a
# static executable (docs/distribution.md: how names resolve and TLS roots are found without NSS).
set -euo pipefail
cd "$(dirname "$0")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
target=${1:-$host}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
name="deploylink-$version-$target"
exe=""
case "$target" in
  *-windows-*) exe=".exe" ;;
esac

rustflags="${RUSTFLAGS:-}"
case "$target" in
  *-windows-msvc) rustflags="$rustflags -C target-feature=+crt-static" ;;
  *-linux-gnu*)
    # Static glibc: getrandom 0.3/0.4 (rand, ahash) find glibc's getrandom() through a weak
    # symbol, which a static binary lacks, and fall back to /dev/urandom, absent in an empty
    # chroot or a scratch image: call getrandom() directly (Linux 3.17+).
    rustflags="$rustflags -C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\""
    ;;
esac

echo "== building $name"
# --target is always given, so RUSTFLAGS reach only the target's code, not build scripts or
# proc macros (which must stay dynamic on the host).
RUSTFLAGS="$rustflags" cargo build --locked --profile dist --target "$target" --bin deploylink
binary="target/$target/dist/deploylink$exe"

case "$target" in
  *-linux-*)
    # ldd says "not a dynamic executable" (static) or "statically linked" (static-pie).
    if command -v ldd >/dev/null 2>&1; then
      linked=$(ldd "$binary" 2>&1 || true)
      case "$linked" in
        *"not a dynamic executable"* | *"statically linked"*) ;;
        *)
          echo "error: $binary is dynamically linked:" >&2
          echo "$linked" >&2
          exit 1
          ;;
      esac
    fi
    ;;
esac

# Completions and the man page come from the binary's own clap definition. A binary of another
# architecture cannot run here: then the host's build generates them (same definition).
generator="$binary"
if ! "$generator" --version >/dev/null 2>&1; then
  echo "== $target does not run here: generating completions and the man page with a host build"
  cargo build --locked --release --bin deploylink
  generator="target/release/deploylink"
  case "$host" in *-windows-*) generator="$generator.exe" ;; esac
fi

rm -rf "dist/$name"
mkdir -p "dist/$name/completions" "dist/$name/man"
cp "$binary" "dist/$name/deploylink$exe"
cp README.md LICENSE-MIT LICENSE-APACHE "dist/$name/"
"$generator" completions bash >"dist/$name/completions/deploylink.bash"
"$generator" completions zsh >"dist/$name/completions/_deploylink"
"$generator" completions fish >"dist/$name/completions/deploylink.fish"
"$generator" completions elvish >"dist/$name/completions/deploylink.elv"
"$generator" completions powershell >"dist/$name/completions/_deploylink.ps1"
"$generator" man >"dist/$name/man/deploylink.1"

cd dist
case "$target" in
  *-windows-*)
    archive="$name.zip"
    rm -f "$archive"
    if command -v zip >/dev/null 2>&1; then
      zip -qr "$archive" "$name"
    elif command -v 7z >/dev/null 2>&1; then
      7z a -tzip -bd "$archive" "$name" >/dev/null
    else
      powershell -NoProfile -Command "Compress-Archive -Path '$name' -DestinationPath '$archive'"
    fi
    ;;
  *)
    archive="$name.tar.gz"
    tar -czf "$archive" "$name"
    ;;
esac
if command -v sha256sum >/dev/null 2>&1; then
  sha256sum "$archive" >"$archive.sha256"
else
  shasum -a 256 "$archive" >"$archive.sha256"
fi
rm -rf "$name"
echo "dist/$archive"
echo "dist/$archive.sha256: $(cut -d ' ' -f 1 "$archive.sha256")"
