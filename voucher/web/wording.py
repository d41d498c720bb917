"""The services' Italian messages in the reader's language, on pages.

A service writes its messages in Italian (voucher.services.wording): the API's `detail` and the
rows it stores keep them so. Marked with N_, each message is also a msgid of the catalogue,
so a page finds its translation: a message without values by its text, a message with values
by matching it against the catalogue's templates ("Età %(age)s anni" matches "Età 80 anni")
and filling the translation with the values read back. A value named `message` or `reason`
is a message itself, translated in turn ("%(message)s (regola: %(rule)s)."); the others are
data (numbers, amounts, names). A message the catalogue does not know is shown as it is.
"""

import contextlib
import re
import weakref
from dataclasses import dataclass

from flask_babel import get_locale, get_translations
from markupsafe import Markup

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_WHOLE_FIRST_WORD = re.compile(r"\s*\S+\s")
# A template needs this much text of its own to be told apart from any other message.
_MIN_LETTERS = 4
# The values that are messages themselves: a refusal's outcome, a reason.
_NESTED = {"message", "reason"}
_cache: "weakref.WeakKeyDictionary[object, _Index]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class _Template:
    msgid: str
    pattern: re.Pattern
    # Which template to try first: one whose text closes the message, so that its last value
    # cannot swallow a longer message's ending ("… minimo di %(min)s" would take "65 (regola:
    # min_age)."), then one whose text opens it, then the one with more text of its own.
    rank: tuple[bool, bool, int]


@dataclass(frozen=True)
class _Index:
    """The catalogue's templates by the first word of their text; those that open with a
    value are tried for every message."""

    by_word: dict[str, list[_Template]]
    opening_with_value: list[_Template]


def _pattern(msgid: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(msgid)  # text, name, text, name, ..., text
    regex, seen = [], set()
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex.append(re.escape(part.replace("%%", "%")))
        elif part in seen:
            regex.append(f"(?P={part})")
        else:
            seen.add(part)
            regex.append(f"(?P<{part}>.+?)")
    return re.compile("".join(regex), re.DOTALL)


def _first_word(text: str) -> str:
    return text.split(maxsplit=1)[0] if text.strip() else ""


def _index(translations) -> _Index:
    """The templates of `translations`, built once per loaded catalogue."""
    try:
        return _cache[translations]
    except (KeyError, TypeError):
        pass
    catalog = getattr(translations, "_catalog", {})
    templates = []
    for msgid in catalog:
        if not isinstance(msgid, str) or "%(" not in msgid:
            continue
        own_text = _PLACEHOLDER.sub("", msgid)
        if sum(ch.isalpha() for ch in own_text) >= _MIN_LETTERS:
            templates.append((len(own_text), msgid))
    by_word: dict[str, list[_Template]] = {}
    opening_with_value = []
    for length, msgid in templates:
        parts = _PLACEHOLDER.split(msgid)
        template = _Template(msgid, _pattern(msgid), (bool(parts[-1]), bool(parts[0]), length))
        lead = parts[0]
        if _WHOLE_FIRST_WORD.match(lead):
            by_word.setdefault(_first_word(lead), []).append(template)
        else:  # "%(name)s ...", "Lotto%(id)s": the message's first word holds a value
            opening_with_value.append(template)
    index = _Index(by_word, opening_with_value)
    with contextlib.suppress(TypeError):  # a catalogue that takes no weak reference
        _cache[translations] = index
    return index


def _known(translations, text: str) -> str | None:
    catalog = getattr(translations, "_catalog", {})
    return translations.gettext(text) if catalog.get(text) else None


def _translate(translations, text: str, depth: int) -> str | None:
    found = _known(translations, text)
    if found is not None:
        return found
    index = _index(translations)
    candidates = index.by_word.get(_first_word(text), []) + index.opening_with_value
    for template in sorted(candidates, key=lambda t: t.rank, reverse=True):
        match = template.pattern.fullmatch(text)
        if match is None or not _known(translations, template.msgid):
            continue
        values = {
            name: (
                _translate(translations, value, depth + 1)
                if name in _NESTED and depth == 0
                else None
            )
            or value
            for name, value in match.groupdict().items()
        }
        return translations.gettext(template.msgid) % values
    if depth == 0 and text.endswith(".") and not text.endswith(".."):
        # A check's outcome, stored or shown as a sentence: "Età 30 anni, ...".
        found = _translate(translations, text[:-1], depth)
        if found is not None:
            return found if found.endswith((".", "!", "?")) else found + "."
    return None


def translate(text) -> str | None:
    """`text`, a service's Italian message, in the reader's language; None when the
    catalogue does not know it (and the reader is not Italian)."""
    if text is None:
        return None
    text = str(text)
    if str(get_locale() or "it") == "it":
        return text
    return _translate(get_translations(), text, 0)


def translated(text):
    """Jinja filter: a service's Italian message in the reader's language, or as it is when
    the catalogue does not know it. Markup stays markup."""
    if text is None or isinstance(text, Markup):
        return text
    found = translate(text)
    return str(text) if found is None else found
