# Shared by scripts/run and scripts/test: create .venv with Python 3.11+ and install the project into it.
# Re-installs only when setup.cfg or pyproject.toml changed (a stamp file keeps their hash).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MOBILITY_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
extra="${1:-}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.mobility-install-stamp-${extra:-base}"
want="$(cat "$ROOT/setup.cfg" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)$extra"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "scripts: installing mobility${extra:+ with [$extra]} and its dependencies into $VENV" >&2
  echo "scripts: (the first time pip downloads them: a few minutes; its progress follows)" >&2
  "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" >&2 || true
  # (the grep drops pip's warnings about optional local package mirrors that some machines lack)
  # PYTHONWARNINGS: setuptools' editable-install advice about folders named like the package is a warning
  # block that reads like an error; an editable install of this very folder is what is wanted here
  if ! PYTHONWARNINGS="ignore:Editable installation" "$VENV/bin/python" -m pip install --progress-bar on \
      -e "$ROOT${extra:+[$extra]}" 2> >(grep -v "is ignored" >&2); then
    echo "scripts: pip install failed" >&2; exit 1
  fi
  echo "scripts: installed; $VENV/bin/mobility --version: $("$VENV/bin/mobility" --version)" >&2
  echo "$want" > "$stamp"
fi
# The package's bytecode, as a wheel install has it: an editable install runs the source, which otherwise
# is compiled again by every process where PYTHONDONTWRITEBYTECODE is set (0.5 s of each server start).
# Up-to-date files are skipped; a read-only tree only loses the speed.
"$VENV/bin/python" -m compileall -q "$ROOT/mobility" >/dev/null 2>&1 || true
export PATH="$VENV/bin:$PATH"
