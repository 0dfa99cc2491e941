#!/usr/bin/env bash
# The README's two commands as a new user runs them on a machine with only Node.js and npm:
# a clean clone of this repository's HEAD, a PATH without ffmpeg, ffprobe and chromium, no
# Vulkan driver (WebGPU then falls back to Mesa's GL llvmpipe, or to nothing), no
# XDG_RUNTIME_DIR, an empty Deno cache and no golden fixtures beside the clone. Runs
# `npx -y deno@2.9.6 task demo` and `... task test`, then lists the skips the tests printed.
# Exit status: 0 when both commands succeed.
# Usage: tests/fresh_machine.sh [--keep] [--gpu]
#   --keep  leave the work folder (printed) for a look at the logs
#   --gpu   keep the Vulkan driver and point VLM3R_FIXTURES at ../shared/fixtures, so the
#           WebGPU tests and the demo's ask stage run too, still without ffmpeg and chromium
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
keep=0 gpu=0
for arg in "$@"; do
  case $arg in
  --keep) keep=1 ;;
  --gpu) gpu=1 ;;
  *) echo "usage: tests/fresh_machine.sh [--keep] [--gpu]" >&2 && exit 2 ;;
  esac
done
[ "$keep" = 1 ] && echo "work folder: $work" || trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/vlm3r" || exit 1

# A PATH of links to every program on the current PATH but the system tools tests may use.
mkdir "$work/bin"
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  for f in "$d"/*; do
    name=${f##*/}
    case $name in ffmpeg | ffprobe | chromium | chromium-browser) continue ;; esac
    [ -x "$f" ] && [ ! -e "$work/bin/$name" ] && ln -s "$f" "$work/bin/$name"
  done
done

cd "$work/vlm3r" || exit 1
fresh=(env -u XDG_RUNTIME_DIR -u DENO_WEBGPU_BACKEND -u VLM3R_FIXTURES PATH="$work/bin"
  DENO_DIR="$work/deno-cache" NO_COLOR=1)
if [ "$gpu" = 1 ]; then
  fresh+=(DENO_WEBGPU_BACKEND=vulkan VLM3R_FIXTURES="$repo/../shared/fixtures")
else
  fresh+=(VK_ICD_FILENAMES=/nonexistent/icd.json)
fi
status=0
echo "== npx -y deno@2.9.6 task demo"
"${fresh[@]}" npx -y deno@2.9.6 task demo >"$work/demo.log" 2>&1 || status=1
tail -3 "$work/demo.log"
echo "== npx -y deno@2.9.6 task test"
"${fresh[@]}" npx -y deno@2.9.6 task test >"$work/test.log" 2>&1 || status=1
grep -E '^(ok|FAILED) \| ' "$work/test.log" | tail -1
echo "== what the tests skipped, and why"
grep -E '^(tests needing|GPU tests skipped|f16 .*skipped)' "$work/test.log" | sort -u
echo "== noise a newcomer would see (Mesa, npm scripts)"
grep -hiE 'XDG_RUNTIME_DIR|build scripts|lifecycle' "$work/demo.log" "$work/test.log" | sort -u
if [ "$status" != 0 ]; then
  echo "== failures"
  grep -E 'FAILED|error' "$work/demo.log" "$work/test.log" | head -40
fi
exit "$status"
