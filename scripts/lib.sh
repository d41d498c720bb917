# Shared by scripts/run and scripts/test (sourced, not run): the project's virtual environment.

# ROOT: the repository root; VENV: its virtual environment.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# Create .venv if it is missing and install the project with its dev extra, again only when
# pyproject.toml has changed since the last install (its digest is kept in a stamp file).
ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> python3 -m venv .venv"
        "${PYTHON:-python3}" -m venv "$VENV" || return 1
    fi
    local stamp="$VENV/.voucher-install-stamp" wanted
    wanted="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "==> pip install -e '.[dev]' (the first time takes a minute or two)"
        # --no-compile: bytecode is written lazily on import; compiling every installed
        # package up front doubles the time of a first install.
        "$VENV/bin/python" -m pip install -qq --disable-pip-version-check --no-compile \
            -e "$ROOT[dev]" || return 1
        echo "$wanted" >"$stamp"
    fi
}
