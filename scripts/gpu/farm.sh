#!/bin/bash
# Build an importable `edgeagent` package under $1 from this checkout without installing it:
# symlinks for the sources (the wheel maps runtime/, train/, ... into edgeagent.*), plus the
# compiled scaffold extension $2.
set -e
dst=$1/edgeagent; so=$2; src=$(pwd)
rm -rf "$1"; mkdir -p "$dst/cpp_ext"
for f in "$src"/edgeagent/*; do ln -s "$f" "$dst/"; done
for d in runtime train export quant; do ln -s "$src/$d" "$dst/$d"; done
for f in "$src"/cpp_ext/*; do ln -s "$f" "$dst/cpp_ext/"; done
cp "$so" "$dst/cpp_ext/"
