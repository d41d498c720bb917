"""Where the files that ship with the application live: templates, static files (the
letters' fonts among them) and migrations."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> str:
    """Installed wheels carry templates/, static/ and migrations/ inside the package; a
    source checkout keeps them at the top of the repository."""
    inside = _PACKAGE / name
    return str(inside if inside.is_dir() else _PACKAGE.parent / name)
