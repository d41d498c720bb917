"""The English catalogue: every entry translated, compiled, and in step with the marked strings.

The extraction here mirrors the commands of docs/translations.md (babel.cfg, the `_l` and
`lazy_gettext` keywords, only dot-directories ignored), so a string marked in the code or the
templates but missing from messages.po fails here rather than showing in Italian to English users.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "voucher" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO_FILE = PO_FILE.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
SOURCE_DIRS = ("voucher", "templates")
FIX = "see docs/translations.md"

Key = tuple[str, str | None]


def _key(message: Message) -> Key:
    """A message's identity: its singular msgid and its context."""
    msgid = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
    return msgid, message.context


def _translations(catalog: Catalog) -> dict[Key, tuple[str, ...]]:
    """The msgstrs of every message but the header, plural forms as a tuple."""
    return {
        _key(m): tuple(m.string) if isinstance(m.string, (tuple, list)) else (m.string,)
        for m in catalog
        if m.id
    }


def _in_sources(path: str) -> bool:
    """Walk only the folders babel.cfg maps, skipping dot-directories as `--ignore-dirs=".*"`."""
    parts = Path(path).relative_to(ROOT).parts
    return parts[0] in SOURCE_DIRS and not Path(path).name.startswith(".")


def _extracted() -> Iterator[tuple[str, Key]]:
    """(file, message) for every string marked for translation, as `pybabel extract` finds them."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    for filename, _line, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, directory_filter=_in_sources
    ):
        yield filename, ((message[0] if isinstance(message, tuple) else message), context)


@pytest.fixture(scope="module")
def catalogue() -> Catalog:
    with PO_FILE.open("rb") as po:
        return read_po(po, locale="en")


@pytest.fixture(scope="module")
def extraction() -> list[tuple[str, Key]]:
    return list(_extracted())


@pytest.fixture(scope="module")
def marked_strings(extraction) -> set[Key]:
    return {key for _file, key in extraction}


def test_every_entry_has_an_english_translation(catalogue):
    untranslated = [key[0] for key, strings in _translations(catalogue).items() if not all(strings)]
    assert untranslated == [], f"empty msgstr in {PO_FILE.name}: {untranslated}"


def test_no_entry_is_fuzzy(catalogue):
    # A fuzzy entry is left out of the compiled catalogue; a fuzzy header leaves out all of them.
    assert not catalogue.fuzzy, f"{PO_FILE.name} has a fuzzy header"
    fuzzy = [_key(m)[0] for m in catalogue if m.id and m.fuzzy]
    assert fuzzy == [], f"fuzzy entries in {PO_FILE.name}: {fuzzy}"


def test_translations_keep_the_placeholders(catalogue):
    problems = [(_key(m)[0], [str(e) for e in errors]) for m, errors in catalogue.check()]
    assert problems == []


def test_the_compiled_catalogue_matches_the_po_file(catalogue):
    with MO_FILE.open("rb") as mo:
        compiled = _translations(read_mo(mo))
    expected = {
        key: strings
        for key, strings in _translations(catalogue).items()
        if all(strings) and not catalogue.get(*key).fuzzy
    }
    stale = sorted(
        key[0]
        for key in expected.keys() | compiled.keys()
        if expected.get(key) != compiled.get(key)
    )
    assert stale == [], (
        f"{MO_FILE.name} differs from {PO_FILE.name} for {stale}: "
        "run `.venv/bin/pybabel compile -d voucher/translations`"
    )


def test_the_catalogue_holds_every_marked_string(catalogue, marked_strings):
    missing = sorted(key[0] for key in marked_strings - set(_translations(catalogue)))
    assert missing == [], f"not in {PO_FILE.name} (extract and update, {FIX}): {missing}"


def test_the_catalogue_holds_no_string_that_is_no_longer_marked(catalogue, marked_strings):
    unused = sorted(key[0] for key in set(_translations(catalogue)) - marked_strings)
    assert unused == [], f"no longer used, in {PO_FILE.name} (update, {FIX}): {unused}"


def test_extraction_reaches_the_shared_macros(extraction):
    # pybabel's default directory filter skips names starting with "_", hence templates/_macros;
    # the documented command passes --ignore-dirs=".*" so that the macros' strings are collected.
    files = {Path(filename).parts[:2] for filename, _key in extraction}
    assert ("templates", "_macros") in files
