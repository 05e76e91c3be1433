#!/usr/bin/env bash
# Put promtool (from Debian's prometheus package, unpacked, not installed) at
# $1/prometheus/usr/bin/promtool, for the alert-rule tests. Prints why when it cannot.
set -uo pipefail
tools="${1:?usage: fetch-promtool.sh TOOLS_DIR}"
mkdir -p "$tools" && tools="$(cd "$tools" && pwd)"
target="$tools/prometheus/usr/bin/promtool"
[ -x "$target" ] && exit 0
if command -v promtool >/dev/null 2>&1; then
  mkdir -p "$(dirname "$target")" && ln -sf "$(command -v promtool)" "$target" && exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  echo "promtool: not available (no apt-get/dpkg-deb here); the alert-rule tests will say so"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 0
if ! apt-get download prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1; fi
  apt-get download prometheus >/dev/null 2>&1 || {
    echo "promtool: could not download Debian's prometheus package; the alert-rule tests will say so"
    exit 0
  }
fi
mkdir -p "$(dirname "$target")"
dpkg-deb -x prometheus_*.deb "$work/unpacked" \
  && cp "$work/unpacked/usr/bin/promtool" "$target.tmp" \
  && mv "$target.tmp" "$target" \
  && echo "promtool: $("$target" --version 2>&1 | head -1)"
