#!/usr/bin/env bash
# Installs the Debian 12 packages isms needs to build and test. Idempotent: when every
# package is already present it only checks and returns (well under a second).
# Runs apt-get as root, or through sudo when run by another user.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3
  clang-14 libclang-rt-14-dev
  tzdata
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libsimdjson-dev
  libfmt-dev libspdlog-dev libhowardhinnant-date-dev
  libssl-dev libsodium-dev libzstd-dev libsqlite3-dev libpq-dev
  libexpat1-dev libpugixml-dev libkainjow-mustache-dev libgoogle-perftools-dev
  libboost-dev libboost-system-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql
  rsyslog rsyslog-openssl
  chromium nodejs curl openssl
  wrk
)

# npm comes with the nodejs of other repositories (NodeSource); Debian packages it apart.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

# The browser tests' driver: playwright-core from the npm registry, at the version
# tests/browser/package-lock.json pins, into tests/browser/node_modules (ignored by git).
# The browser itself is Debian's chromium.
browser_deps() {
  local dir want have
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/browser" && pwd)"
  want=$(node -p "require('$dir/package-lock.json').packages['node_modules/playwright-core'].version")
  have=$(node -p "require('$dir/node_modules/playwright-core/package.json').version" 2>/dev/null ||
    true)
  if [ "$want" != "$have" ]; then
    echo "install-deps: npm ci in tests/browser (playwright-core $want)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  browser_deps
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install-deps: these packages are missing and I am not root and have no sudo:" >&2
  echo "  ${missing[*]}" >&2
  echo "Install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
browser_deps
