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

# SAML signatures (SPID and CIE sign-in, voucher/spid/) go through xmlsec1, a system program.
ensure_xmlsec() {
    command -v xmlsec1 >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> apt-get install xmlsec1 (SAML signatures for SPID and CIE)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null &&
            return 0
    fi
    echo "WARNING: xmlsec1 is not installed: SPID and CIE sign-in will not work (apt-get install xmlsec1)." >&2
}

# AgID's conformance tool for SPID service providers, in a virtual environment of its own
# (its pinned dependencies are not ours): the SPID tests run it against the application.
ensure_spid_sp_test() {
    local tool="$VENV/tools/spid-sp-test"
    [ -x "$tool/bin/spid_sp_test" ] && return 0
    echo "==> pip install spid-sp-test (SPID conformance, in .venv/tools/spid-sp-test)"
    "${PYTHON:-python3}" -m venv --upgrade-deps "$tool" >/dev/null &&
        "$tool/bin/python" -m pip install -qq --disable-pip-version-check spid-sp-test
}
