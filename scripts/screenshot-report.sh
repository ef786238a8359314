#!/usr/bin/env bash
# Screenshots a report page with Debian's headless chromium, to see what a person sees:
#   scripts/screenshot-report.sh [reports/latest/index.html] [report.png]
# Exits 0 with "skipped: ..." when chromium is not installed (CI machines do not have it).
set -euo pipefail
page="${1:-reports/latest/index.html}"
png="${2:-report.png}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "skipped: chromium not found at $chromium (apt-get install chromium)"
  exit 0
fi
if [ ! -f "$page" ]; then
  echo "no report page at $page; run a sweep first" >&2
  exit 65
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
url="file://$(cd "$(dirname "$page")" && pwd -P)/$(basename "$page")"
# A fresh profile and no background traffic: the page itself needs no network at all.
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1280,2000 --screenshot="$png" "$url" \
  >/dev/null 2>&1
test -s "$png"
echo "screenshot: $png"
