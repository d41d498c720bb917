"""Static files: the pages link content-hashed names served compressed and cached for good
(voucher.web.assets with WhiteNoise), the plain names still work, and every file a template
links exists."""

import gzip
import json
import re
from pathlib import Path

import brotli
import pytest
from flask import url_for

from tests.conftest import make_app
from voucher.resources import resource_dir
from voucher.web.assets import build_static_files, hashed_name, load_manifest

STATIC = Path(resource_dir("static"))
TEMPLATES = Path(resource_dir("templates"))
HASHED = re.compile(r"\.[0-9a-f]{12}\.")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("static-build")
    build_static_files(STATIC, folder)
    return folder


@pytest.fixture
def built_app(build_dir, tmp_path):
    return make_app(
        f"sqlite:///{tmp_path / 'static.sqlite3'}", tmp_path, STATIC_BUILD_DIR=str(build_dir)
    )


def test_build_is_idempotent_and_names_follow_the_content(build_dir):
    manifest = json.loads((build_dir / "manifest.json").read_text())["files"]
    before = {p: p.stat().st_mtime_ns for p in (build_dir / "files").rglob("*")}
    build_static_files(STATIC, build_dir)
    assert json.loads((build_dir / "manifest.json").read_text())["files"] == manifest
    assert {p: p.stat().st_mtime_ns for p in (build_dir / "files").rglob("*")} == before
    app_js = manifest["js/app.js"]["hashed"]
    assert app_js == hashed_name("js/app.js", (STATIC / "js/app.js").read_bytes())
    assert (build_dir / "files" / app_js).read_bytes() == (STATIC / "js/app.js").read_bytes()


def test_stylesheets_load_the_hashed_fonts(build_dir):
    hashed = load_manifest(STATIC, build_dir)["css/fonts.css"]
    css = (build_dir / "files" / hashed).read_text()
    fonts = re.findall(r'url\("\.\./(vendor/bootstrap-italia/fonts/[^"]+)"\)', css)
    assert fonts and all(HASHED.search(font) for font in fonts)
    assert all((build_dir / "files" / font).is_file() for font in fonts)


def test_a_file_edited_after_the_build_is_linked_by_its_plain_name(tmp_path):
    static, build = tmp_path / "static", tmp_path / "build"
    (static / "js").mkdir(parents=True)
    (static / "js" / "a.js").write_text("var a = 1;\n" * 50)
    (static / "js" / "b.js").write_text("var b = 2;\n" * 50)
    build_static_files(static, build)
    assert set(load_manifest(static, build)) == {"js/a.js", "js/b.js"}
    (static / "js" / "a.js").write_text("var a = 3;\n" * 50)
    assert set(load_manifest(static, build)) == {"js/b.js"}
    assert load_manifest(static, build, only="js/a.js") == {}  # a developer's check per link
    assert set(load_manifest(static, build, only="js/b.js")) == {"js/b.js"}
    build_static_files(static, build)  # the old copy of a.js goes, the new one comes
    names = sorted(p.name for p in (build / "files" / "js").iterdir())
    assert len([n for n in names if n.startswith("a.") and n.endswith(".js")]) == 1


def test_pages_link_hashed_names_served_immutable_and_compressed(built_app):
    with built_app.test_request_context():
        url = url_for(
            "static", filename="vendor/bootstrap-italia/css/bootstrap-italia.custom.min.css"
        )
    assert HASHED.search(url)
    client = built_app.test_client()
    html = client.get("/accesso").get_data(as_text=True)
    assert url in html
    original = client.get(url, headers={"Accept-Encoding": "identity"})
    assert original.status_code == 200 and "Content-Encoding" not in original.headers
    assert original.headers["Cache-Control"] == "max-age=31536000, public, immutable"
    assert original.headers["Vary"] == "Accept-Encoding"
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        with client.get(url, headers={"Accept-Encoding": encoding}) as response:
            assert response.headers["Content-Encoding"] == encoding
            assert len(response.data) < len(original.data) / 3
            assert decompress(response.data) == original.data
    original.close()


def test_plain_names_still_served_with_a_short_cache(built_app):
    client = built_app.test_client()
    with client.get("/static/js/app.js") as response:
        assert response.status_code == 200
        assert response.data == (STATIC / "js/app.js").read_bytes()
        assert "immutable" not in response.headers["Cache-Control"]
        assert "max-age=60" in response.headers["Cache-Control"]
    with client.get("/static/js/no-such-file.js") as response:
        assert response.status_code == 404


def test_every_static_file_a_template_links_exists():
    pattern = re.compile(r"url_for\(\s*'static'\s*,\s*filename\s*=\s*'([^']+)'")
    linked = {
        (template.relative_to(TEMPLATES).as_posix(), name)
        for template in TEMPLATES.rglob("*.html")
        for name in pattern.findall(template.read_text(encoding="utf-8"))
    }
    assert len(linked) > 10
    missing = [(t, n) for t, n in sorted(linked) if not (STATIC / n).is_file()]
    assert not missing
    unlinked = [t.name for t in TEMPLATES.rglob("*.html") if '"/static/' in t.read_text("utf-8")]
    assert not unlinked, "a static file linked without url_for would miss its hashed name"


def _class_names(css: str, alone: bool = False) -> set[str]:
    """The classes of a stylesheet's selectors; `alone`: those styled by themselves (a
    selector of that one class, with pseudo-classes at most), which a page using the class
    needs whatever else it holds."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    selectors = {
        part.strip()
        for group in re.findall(r"([^{}]+)\{[^{}]*\}", css)
        for part in group.split(",")
    }
    if alone:
        single = re.compile(r"^\.(-?[A-Za-z_][\w-]*)(?::{1,2}[\w-]+(?:\([^()]*\))?)*$")
        return {m.group(1) for m in map(single.match, selectors) if m}
    return {name for sel in selectors for name in re.findall(r"\.(-?[A-Za-z_][\w-]*)", sel)}


def test_the_custom_bootstrap_italia_keeps_every_class_the_pages_use():
    """scripts/build_assets keeps only what templates, scripts and Python code use: a page
    that starts using another Bootstrap Italia class (or component) needs a new build."""
    vendor = STATIC / "vendor" / "bootstrap-italia"
    complete = _class_names(
        (vendor / "css" / "bootstrap-italia.min.css").read_text("utf-8"), alone=True
    )
    custom = _class_names((vendor / "css" / "bootstrap-italia.custom.min.css").read_text("utf-8"))
    sources = [
        *TEMPLATES.rglob("*.html"),
        *(STATIC / "js").rglob("*.js"),
        *Path(resource_dir("static")).parent.joinpath("voucher").rglob("*.py"),
    ]
    words = {w for path in sources for w in re.findall(r"[\w-]+", path.read_text("utf-8"))}
    dropped = sorted((words & complete) - custom)
    assert not dropped, f"run scripts/build_assets: the pages use {dropped}"
    toggles = {
        value
        for path in TEMPLATES.rglob("*.html")
        for value in re.findall(r'data-bs-toggle="([^"]+)"', path.read_text("utf-8"))
    }
    bundle = (vendor / "js" / "bootstrap-italia.custom.min.js").read_text("utf-8")
    missing = sorted(t for t in toggles if f'data-bs-toggle="{t}"' not in bundle)
    assert not missing, f"add the plugins of {missing} to scripts/assets/bootstrap-italia.custom.js"
