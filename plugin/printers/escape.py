"""The one escaping function for text shown to a person (design.md, "One answer everywhere").

Names, images, paths, env values, annotations, evidence and messages come from clusters and
files the plugin does not control. Printed raw, an ESC sequence recolours the terminal, an OSC 8
sequence plants a link, a `\\r` or `\\n` in a pod name forges a table row (CVE-2021-25743, which
kubectl fixed by escaping), and a bidi override reorders a row. Every human-facing output (table,
wide, explain, markdown, summary, nodes, `-o name`, the `Warning:`/`error:` lines) passes its
values through `terminal_text`; json, yaml and sarif keep the exact value, encoded by their
serializer.

Style: backslash escapes as Python and Go write them, so one rule covers every character and
the original value can be read back: `\\n`, `\\r`, `\\t`, then `\\xNN` for the other C0
controls, DEL and the C1 controls (U+0080-U+009F, e.g. `\\x1b`, `\\x9b`), and `\\uNNNN` for
the bidi controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the line and
paragraph separators U+2028, U+2029. A backslash itself is left as it is (Windows paths stay
readable), so `\\n` in the output may be either a newline or the two characters; never a line.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BIDI_AND_SEPARATORS = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]


def _visible(code: int) -> str:
    char = chr(code)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_UNSAFE_CODES = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *_BIDI_AND_SEPARATORS]
_TABLE = {code: _visible(code) for code in _UNSAFE_CODES}
_UNSAFE = re.compile("[" + "".join(re.escape(chr(code)) for code in _UNSAFE_CODES) + "]")


def terminal_text(value: object) -> str:
    """`value` as text that cannot move the cursor, change colours, start an escape sequence,
    break a line or reorder the line it is printed on: unsafe characters are made visible."""
    text = value if isinstance(value, str) else str(value)
    if _UNSAFE.search(text) is None:  # the common case: nothing to copy
        return text
    return text.translate(_TABLE)


def terminal_message(message: str, hint: str | None = None) -> str:
    """An error message for stderr, escaped like any value, and the plugin's own hint, if any, on
    a line of its own (`PluginError.hint`: no value from a server or a file can add that line)."""
    return terminal_text(message) + (f"\nhint: {terminal_text(hint)}" if hint else "")
