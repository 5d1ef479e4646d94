#!/usr/bin/env bash
# Installs every tool Roster's build and tests need, skipping what is already there.
# Sources: rustup, crates.io, npm and Debian only (nothing is downloaded from anywhere else).
#   scripts/setup.sh          tools to build and run the app
#   scripts/setup.sh --test   plus Chromium and the end-to-end test packages
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# Kept outside the clone so fresh clones (and CI) reuse them.
tools_dir="${ROSTER_TOOLS_DIR:-$HOME/.local/share/roster-tools}"
export PATH="$HOME/.cargo/bin:$tools_dir/node_modules/.bin:$PATH"

cargo_leptos_version="0.3.10"
binaryen_version="132.0.0"
# The CLI must equal the wasm-bindgen crate in Cargo.lock exactly.
wasm_bindgen_version="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, "", $0); print; exit}' "$root/Cargo.lock")"

say() { printf '[setup] %s\n' "$*"; }

# webauthn-rs (passkeys) verifies signatures with OpenSSL: its headers, found by pkg-config.
build_packages=()
dpkg -s libssl-dev >/dev/null 2>&1 || build_packages+=(libssl-dev)
command -v pkg-config >/dev/null || build_packages+=(pkg-config)
if [ "${#build_packages[@]}" -gt 0 ]; then
  say "installing ${build_packages[*]} from Debian"
  apt_prefix=""
  [ "$(id -u)" = 0 ] || apt_prefix="sudo"
  $apt_prefix apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $apt_prefix apt-get install -y -qq --no-install-recommends "${build_packages[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Build tools are installed with a quick profile instead of their own release profile
# (fat LTO, one codegen unit): measured on 2 cores, cargo-leptos takes 12 minutes instead
# of 29, and what they do (drive cargo, bind and split the WASM) does not need the speed.
quick_install=(--config profile.release.lto=false --config profile.release.codegen-units=256
  --config profile.release.opt-level=1 --config profile.release.debug=0
  --config profile.release.incremental=false)

if ! cargo leptos --version 2>/dev/null | grep -q "$cargo_leptos_version"; then
  say "installing cargo-leptos $cargo_leptos_version (about 12 minutes on 2 cores)"
  cargo install cargo-leptos --version "$cargo_leptos_version" --locked "${quick_install[@]}"
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $wasm_bindgen_version\b"; then
  say "installing wasm-bindgen-cli $wasm_bindgen_version"
  # --locked fails: one of its locked dependencies is no longer in the index.
  cargo install wasm-bindgen-cli --version "=$wasm_bindgen_version" --force "${quick_install[@]}"
fi

# Debian's binaryen is too old (its wasm-opt breaks hydration); npm ships a current one.
if ! "$tools_dir/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version ${binaryen_version%%.*}"; then
  say "installing wasm-opt (binaryen $binaryen_version from npm)"
  mkdir -p "$tools_dir"
  npm install --prefix "$tools_dir" --no-audit --no-fund "binaryen@$binaryen_version"
fi

if [ "$want_test" = 1 ]; then
  # From Debian: Chromium for the browser tests; nginx (with brotli_static) for the
  # cluster test; promtool (in prometheus) to check and unit-test the alert rules;
  # aiosmtpd, the SMTP server the mail tests deliver to.
  debian_packages=()
  [ -x /usr/bin/chromium ] || debian_packages+=(chromium)
  [ -x /usr/sbin/nginx ] || debian_packages+=(nginx-light)
  [ -f /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ] || debian_packages+=(libnginx-mod-http-brotli-static)
  command -v promtool >/dev/null || debian_packages+=(prometheus)
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || debian_packages+=(python3-aiosmtpd)
  if [ "${#debian_packages[@]}" -gt 0 ]; then
    say "installing ${debian_packages[*]} from Debian"
    apt_prefix=""
    [ "$(id -u)" = 0 ] || apt_prefix="sudo"
    $apt_prefix apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $apt_prefix apt-get install -y -qq --no-install-recommends "${debian_packages[@]}"
  fi
  if [ ! -d "$root/end2end/node_modules/@playwright/test" ]; then
    say "installing end-to-end test packages"
    (cd "$root/end2end" && npm ci --no-audit --no-fund)
  fi
fi
say "tools ready"
