#!/usr/bin/env bash
# Print the path of a Python 3.8-3.10 interpreter (Rasa 3.6 supports only
# those), or explain what was looked for and exit 1.
# Order: $PYTHON, python3.10/3.9/3.8 on PATH, pyenv's versions, /usr/bin.
set -u
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.10 python3.9 python3.8)
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for minor in 10 9 8; do
  for dir in "$pyenv_root"/versions/3."$minor".*; do
    [ -x "$dir/bin/python3.$minor" ] && candidates+=("$dir/bin/python3.$minor")
  done
  candidates+=("/usr/bin/python3.$minor" "/usr/local/bin/python3.$minor")
done
candidates+=(python3)
for candidate in "${candidates[@]}"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  # pyenv shims exist for versions that are not active: ask the interpreter itself.
  if "$path" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] <= (3, 10) else 1)' 2>/dev/null; then
    "$path" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "error: no Python 3.8-3.10 interpreter found (Rasa 3.6 needs one)." >&2
echo "  looked for: \$PYTHON, python3.10, python3.9, python3.8 and python3 on PATH," >&2
echo "  $pyenv_root/versions/3.{10,9,8}.*, /usr/bin and /usr/local/bin." >&2
echo "  Install one (e.g. 'pyenv install 3.10.13') or set PYTHON=/path/to/python3.10." >&2
exit 1
