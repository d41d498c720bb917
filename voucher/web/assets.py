"""Static files served by the application itself, compressed and cached for good.

A phone on a poor line cannot wait for two megabytes of scripts and styles at every visit.
`build_static_files` (run by scripts/run and scripts/test, `flask --app voucher assets`) copies
each file of static/ to a name carrying a digest of its content (`app.3f2a9c1b7d04.css`),
next to its gzip and brotli copies (whitenoise.compress), and writes a manifest. Pages then
link the hashed names (`url_for('static', ...)` is rewritten here, templates need no change),
which WhiteNoise serves with `Cache-Control: immutable` for a year: a changed file gets a new
name, so nothing stale is ever kept. The plain names keep working, with a short cache.

WhiteNoise's manifest storage is Django's; this is the same idea for Flask, in a few lines.
Without a build (or for a file edited after it) the plain name is linked: nothing breaks.
"""

import hashlib
import json
import os
import posixpath
import re
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from ..resources import resource_dir

MANIFEST = "manifest.json"
FILES = "files"  # the served folder inside the build folder
DIGEST_CHARS = 12
# Kept out of the build: the letters' PDF fonts are read from disk by the renderer, never
# linked from a page; documentation files are not served content.
SKIP = re.compile(r"(^|/)(README\.md|VERSION|LICENSE[^/]*|[^/]*\.txt)$|^fonts/")
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
ONE_YEAR = 365 * 24 * 60 * 60


def default_build_dir() -> Path:
    """build/static beside the static folder (ignored by git), or STATIC_BUILD_DIR."""
    configured = os.environ.get("STATIC_BUILD_DIR")
    if configured:
        return Path(configured)
    return Path(resource_dir("static")).parent / "build" / "static"


def hashed_name(name: str, content: bytes) -> str:
    """`css/app.css` → `css/app.<12 hex digits of its SHA-256>.css`."""
    digest = hashlib.sha256(content).hexdigest()[:DIGEST_CHARS]
    stem, dot, ext = name.rpartition(".")
    if not dot or "/" in ext:
        return f"{name}.{digest}"
    return f"{stem}.{digest}.{ext}"


def _sources(static_dir: Path) -> list[str]:
    names = []
    for path in sorted(static_dir.rglob("*")):
        name = path.relative_to(static_dir).as_posix()
        if path.is_file() and not SKIP.search(name) and not name.endswith((".gz", ".br")):
            names.append(name)
    return names


def _rewrite_css(name: str, text: str, hashed: dict[str, str]) -> str:
    """Point a stylesheet's url(...) at the hashed names of the files it loads, so that the
    fonts and images are cached for good with it."""
    folder = posixpath.dirname(name)

    def replace(match: re.Match) -> str:
        quote, ref = match.group(1), match.group(2).strip()
        if ref.startswith(("data:", "#", "/")) or "://" in ref:
            return match.group(0)
        path, sep, tail = (re.split(r"([?#])", ref, maxsplit=1) + ["", ""])[:3]
        target = posixpath.normpath(posixpath.join(folder, path))
        if target not in hashed:
            return match.group(0)
        relative = posixpath.relpath(hashed[target], folder or ".")
        return f"url({quote}{relative}{sep}{tail}{quote})"

    return CSS_URL.sub(replace, text)


def build_static_files(static_dir: str | Path | None = None, build_dir: str | Path | None = None):
    """Write the hashed copies, their .gz/.br and the manifest; return the manifest's path.

    Idempotent and quick when nothing changed: a hashed file already built (with its
    compressed copies) is kept, and files of older builds are removed."""
    static_dir = Path(static_dir or resource_dir("static"))
    build_dir = Path(build_dir or default_build_dir())
    files_dir = build_dir / FILES
    files_dir.mkdir(parents=True, exist_ok=True)
    compressor = Compressor(quiet=True)
    names = _sources(static_dir)
    # Stylesheets last: their content (and so their digest) names the others' digests.
    names.sort(key=lambda name: name.endswith(".css"))
    hashed: dict[str, str] = {}
    entries: dict[str, dict] = {}
    for name in names:
        source = static_dir / name
        stat = source.stat()
        content = source.read_bytes()
        if name.endswith(".css"):
            content = _rewrite_css(name, content.decode("utf-8"), hashed).encode("utf-8")
        hashed[name] = hashed_name(name, content)
        entries[name] = {"hashed": hashed[name], "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        target = files_dir / hashed[name]
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(content)
            if compressor.should_compress(str(target)):
                compressor.compress(str(partial))
                for suffix in (".br", ".gz"):
                    done = Path(str(partial) + suffix)
                    if done.exists():
                        done.replace(str(target) + suffix)
            partial.replace(target)
    _prune(files_dir, {hashed[name] for name in names})
    manifest = build_dir / MANIFEST
    partial = manifest.with_name(MANIFEST + ".partial")
    partial.write_text(json.dumps({"files": entries}, indent=1, sort_keys=True), "utf-8")
    partial.replace(manifest)
    return manifest


def _prune(files_dir: Path, wanted: set[str]) -> None:
    for path in files_dir.rglob("*"):
        if not path.is_file():
            continue
        name = path.relative_to(files_dir).as_posix()
        for suffix in (".br", ".gz"):
            if name.endswith(suffix) and name[: -len(suffix)] in wanted:
                break
        else:
            if name not in wanted:
                path.unlink()


def load_manifest(
    static_dir: str | Path, build_dir: str | Path, only: str | None = None
) -> dict[str, str]:
    """Plain name → hashed name, for the files whose source is unchanged since the build
    (a file edited afterwards is linked by its plain name until the next build); `only`:
    that file alone."""
    try:
        entries = json.loads((Path(build_dir) / MANIFEST).read_text("utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return {}
    if only is not None:
        entries = {only: entries[only]} if only in entries else {}
    current = {}
    for name, entry in entries.items():
        try:
            stat = (Path(static_dir) / name).stat()
        except OSError:
            continue
        built = Path(build_dir) / FILES / entry["hashed"]
        if (stat.st_size, stat.st_mtime_ns) == (entry["size"], entry["mtime_ns"]) and (
            built.is_file()
        ):
            current[name] = entry["hashed"]
    return current


def _unchanged(static_dir: Path, build_dir: Path, name: str) -> bool:
    """Still as built (a developer may have edited it since the application started)."""
    return name in load_manifest(static_dir, build_dir, only=name)


class StaticFiles(WhiteNoise):
    """WhiteNoise with a year for the immutable files (RFC 9111's customary maximum)."""

    FOREVER = ONE_YEAR


def _no_sniff(headers, path, url) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask) -> None:
    """Serve static/ through WhiteNoise and link the hashed names from every page."""
    static_dir = Path(app.static_folder)
    configured = app.config.get("STATIC_BUILD_DIR")  # "": no build (the tests' pages)
    build_dir = Path(configured) if configured else default_build_dir()
    manifest = load_manifest(static_dir, build_dir) if configured != "" else {}
    app.extensions["voucher.static_manifest"] = manifest
    served = str((build_dir / FILES).resolve()) + os.sep
    # A developer's edits show at once; elsewhere a minute's cache for the plain names.
    autorefresh = bool(app.debug or app.config.get("STATIC_AUTOREFRESH"))
    app.wsgi_app = wrapped = StaticFiles(
        app.wsgi_app,
        autorefresh=autorefresh,
        max_age=0 if autorefresh else 60,
        allow_all_origins=False,  # our own pages only: the CSP loads nothing from elsewhere
        add_headers_function=_no_sniff,
        immutable_file_test=lambda path, url: os.path.abspath(path).startswith(served),
    )
    prefix = (app.static_url_path or "/static").rstrip("/") + "/"
    wrapped.add_files(str(static_dir), prefix=prefix)
    if manifest:
        wrapped.add_files(str(build_dir / FILES), prefix=prefix)

    @app.url_defaults
    def _hashed_static(endpoint: str, values: dict) -> None:
        name = values.get("filename") if endpoint == "static" else None
        if name in manifest and (not autorefresh or _unchanged(static_dir, build_dir, name)):
            values["filename"] = manifest[name]

    @app.cli.command("assets")
    def _build_command() -> None:
        """Build the hashed, compressed static files (scripts/run and scripts/test do it)."""
        path = build_static_files(static_dir, build_dir)
        print(f"{len(load_manifest(static_dir, build_dir))} static files in {path.parent}")
