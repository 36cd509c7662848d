#!/usr/bin/env bash
# One-step set-up for cnnc on Debian bookworm: system packages (Vulkan loader, Mesa lavapipe from
# bookworm-backports, Fashion-MNIST, PyTorch for reference fixtures), the npm packages, and the
# bundled CLI (dist/).
# Idempotent: installs only what is missing. Not on Debian, or not root: prints what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Mesa 22 (bookworm) lavapipe is too old for Dawn; Mesa >= 24 from bookworm-backports works.
mesa_ok() {
  have_pkg mesa-vulkan-drivers || return 1
  local v; v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)
  dpkg --compare-versions "$v" ge 24
}

is_debian=0
if [ -r /etc/os-release ] && grep -q '^ID=debian' /etc/os-release; then is_debian=1; fi
codename=$( (. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}") )

mesa_ok || need_pkgs+=(mesa-vulkan-drivers)
have_pkg libvulkan1 || need_pkgs+=(libvulkan1)
have_pkg dataset-fashion-mnist || need_pkgs+=(dataset-fashion-mnist)
have_pkg python3-torch || need_pkgs+=(python3-torch)
have_pkg python3-pil || need_pkgs+=(python3-pil)
# Browser tests (issue 18): Debian's chromium, driven by puppeteer-core; WebGPU through SwiftShader.
have_pkg chromium || need_pkgs+=(chromium)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$is_debian" != 1 ] || [ "$(id -u)" != 0 ]; then
    echo "cnnc setup: cannot install system packages here (needs Debian bookworm and root)." >&2
    echo "Missing: ${need_pkgs[*]}" >&2
    echo "Install them yourself: a Vulkan loader (libvulkan1), a Vulkan driver (Mesa >= 24 lavapipe or a GPU driver)," >&2
    echo "Fashion-MNIST IDX files (--data DIR), and optionally PyTorch (only for regenerating test fixtures)." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "cnnc setup: adding ${codename}-backports to apt sources"
    cat > /etc/apt/sources.list.d/cnnc-backports.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${codename}-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  apt-get update -qq
  apt-get install -y -qq -t "${codename}-backports" mesa-vulkan-drivers libvulkan1 >/dev/null
  apt-get install -y -qq dataset-fashion-mnist python3-torch python3-pil chromium >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # onnxruntime-node's CPU binaries are in its npm tarball; its install script would fetch CUDA
  # ones from nuget.org (.npmrc says the same to npm versions that still pass it on).
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
# The CLI as plain JavaScript in dist/ (bin/cnnc.js runs the sources through tsx until then).
node scripts/build.mjs
echo "cnnc setup: ready"
