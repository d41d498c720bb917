# Shared by scripts/run and scripts/test (sourced, not run): the project's virtual environment.

# ROOT: the repository root; VENV: its virtual environment.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# Create .venv if it is missing and install the project with its dev extra, again only when
# pyproject.toml has changed since the last install (its digest is kept in a stamp file).
ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> python3 -m venv .venv"
        # --upgrade-deps: the newest pip and setuptools, not the (older, advised-against)
        # ones the interpreter ships with.
        "${PYTHON:-python3}" -m venv --upgrade-deps "$VENV" || return 1
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

# The browser tests drive Debian's Chromium. Install it when it is missing and this user may
# (root with apt-get, as on CI machines); otherwise say what to install.
ensure_chromium() {
    command -v chromium >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> apt-get install chromium (for the browser tests)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null &&
            return 0
    fi
    echo "WARNING: chromium is not installed: the browser tests will fail (apt-get install chromium)." >&2
}
