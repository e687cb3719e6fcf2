#!/usr/bin/env bash
# Prints the newest usable Python >= 3.11 on this machine (3.13 preferred), or fails.
set -u
candidates=(python3.13 python3.12 python3.11 python3)
for dir in "$HOME"/.pyenv/versions/3.13* "$HOME"/.pyenv/versions/3.12* /usr/local/bin /usr/bin; do
  [ -d "$dir" ] || continue
  for name in python3.13 python3.12 python3.11; do
    [ -x "$dir/bin/$name" ] && candidates+=("$dir/bin/$name")
    [ -x "$dir/$name" ] && candidates+=("$dir/$name")
  done
done
best=""; best_minor=0
for py in "${candidates[@]}"; do
  minor=$("$py" -c 'import sys; print(sys.version_info[1] if sys.version_info[:2] >= (3, 11) else 0)' 2>/dev/null) || continue
  if [ "${minor:-0}" -gt "$best_minor" ]; then best="$py"; best_minor="$minor"; fi
done
[ -n "$best" ] || { echo "No Python >= 3.11 found" >&2; exit 1; }
command -v "$best" 2>/dev/null || echo "$best"
