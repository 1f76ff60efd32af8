"""The one escaping function for terminals, and the exact encoding of the machine formats."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from plugin.printers.escape import terminal_message, terminal_text
from plugin.printers.yaml import dump_yaml, dumper_class

C0 = [chr(c) for c in range(0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = [chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))]
SEPARATORS = ["\u2028", "\u2029"]
UNSAFE = C0 + ["\x7f"] + C1 + BIDI + SEPARATORS


@pytest.mark.parametrize("char", UNSAFE, ids=lambda c: f"U+{ord(c):04X}")
def test_every_unsafe_character_is_made_visible(char: str) -> None:
    shown = terminal_text(f"a{char}b")
    assert shown.startswith("a\\") and shown.endswith("b")
    assert all(c.isprintable() for c in shown)


def test_the_style_is_backslash_escapes() -> None:
    assert terminal_text("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert terminal_text("\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07") == \
        "\\x1b]8;;https://evil.example/\\x07click\\x1b]8;;\\x07"
    assert terminal_text("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert terminal_text("\x00\x7f\x9b\x85") == "\\x00\\x7f\\x9b\\x85"
    assert terminal_text("\u202egnp.exe\u2066") == "\\u202egnp.exe\\u2066"


def test_ordinary_text_is_unchanged() -> None:
    for text in ("daemonset.apps/datadog", "C:\\Users\\x.yaml", "café", "日本語", "a b", "<none>", "~/x|y"):
        assert terminal_text(text) is text or terminal_text(text) == text


def test_non_strings_are_shown_as_text() -> None:
    assert terminal_text(3) == "3" and terminal_text(None) == "None"


def test_only_the_plugins_own_hint_gets_a_line_of_its_own() -> None:
    # A name from a server may hold "\nhint: ..." itself: it stays on the message's line, escaped.
    message = 'Error from server (NotFound): pods "x\nerror: forged\nhint: forged too" not found'
    assert terminal_message(message, "scan with -n NS").splitlines() == [
        'Error from server (NotFound): pods "x\\nerror: forged\\nhint: forged too" not found',
        "hint: scan with -n NS"]
    assert terminal_message(message).count("\n") == 0


HOSTILE = ["".join(UNSAFE), "\x85", "a\x85b", "\u2028", "x\n- y: z", "\x1b]8;;u\x07", ": x", "- \x1b", "'\"",
           "\ud7ff", "é", "plain"]


@pytest.mark.parametrize("base", [yaml.SafeDumper, getattr(yaml, "CSafeDumper", yaml.SafeDumper)],
                         ids=["python", "libyaml"])
def test_yaml_keeps_every_value_exactly_and_cannot_break_the_document(base: type) -> None:
    document = {"items": [{"name": value, "evidence": [value], value: value} for value in HOSTILE], "after": 1}
    out = io.StringIO()
    dump_yaml(document, out, dumper_class(base))
    assert yaml.safe_load(out.getvalue()) == document
    # no raw control character reaches the YAML text, so no terminal interprets it either
    assert not any(c in out.getvalue() for c in C0 + ["\x7f"] + C1 + SEPARATORS if c != "\n")


def test_json_keeps_every_value_exactly_as_escapes() -> None:
    from plugin.printers.json import dump_json

    out = io.StringIO()
    dump_json({"v": HOSTILE}, out)
    assert json.loads(out.getvalue()) == {"v": HOSTILE}
    assert out.getvalue().isascii() and not any(c in out.getvalue() for c in UNSAFE if c != "\n")


def test_the_progress_line_escapes_kinds_from_files_and_the_context_name() -> None:
    from plugin.models import Origin, SourceObject
    from plugin.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    now = [0.0]

    def objects():
        for _ in range(400):
            now[0] += 0.01
            yield SourceObject("Pod\x1b]8;;https://evil.example/\x07", "v1", {}, Origin())

    stream = Terminal()
    progress = Progress(stream, lambda: now[0])
    list(progress.track(objects(), "ctx\n\x1b[31m"))
    progress.done()
    text = stream.getvalue()
    assert "ctx\\n\\x1b[31m: read 400 Pod\\x1b]8;;https://evil.example/\\x07s ..." in text
    assert "\n" not in text and "\x07" not in text
    assert text.replace("\r\x1b[2K", "").count("\x1b") == 0  # only the line's own erase sequences
