#!/usr/bin/env bash
# Prints the newest usable Python >= 3.11 on this machine (3.13 preferred), or fails.
# With an argument (e.g. `find-python.sh 3.13`), prints an interpreter of exactly that version, or fails:
# `sam build` and the packaged-artifact tests need python3.13, the Lambda runtime's version.
set -u
want="${1:-}"
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
  version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  if [ -n "$want" ]; then
    # pyenv shims answer for versions that are not selected: check the interpreter really runs
    if [ "$version" = "$want" ]; then best="$py"; break; fi
    continue
  fi
  minor=$("$py" -c 'import sys; print(sys.version_info[1] if sys.version_info[:2] >= (3, 11) else 0)' 2>/dev/null) || continue
  if [ "${minor:-0}" -gt "$best_minor" ]; then best="$py"; best_minor="$minor"; fi
done
[ -n "$best" ] || { echo "No Python ${want:->= 3.11} found" >&2; exit 1; }
command -v "$best" 2>/dev/null || echo "$best"
