"""The offline source: Kubernetes objects from manifest files, folders, stdin and cluster dumps.

Reads YAML (multi-document, `helm template` output) and JSON, flattens `List` objects (what
`kubectl get ... -o json` prints), and remembers the file, line and document index of each
object. Loading is safe-only (no Python tags). A file that cannot be read or parsed becomes a
`FileProblem` naming the file and position; every other file is still read. Objects are
yielded as they are parsed (`stream_manifests`), so a scan holds only what it keeps of them;
`read_manifests` lists them all for the callers that need them together.

Input may be hostile (a repository's manifests, a pasted dump), so memory and time stay bounded
whatever a file holds: files over 64 MiB are not read; a file whose syntax could hold more than
8,000,000 nodes is refused before parsing (PyYAML needs about 300 bytes per node); a YAML
document whose aliases would expand it by more than 1,000,000 nodes (the "billion laughs"), or
nest it more than 1,000 levels deep, or that contains itself, is refused with the rest of its
file still read; nesting beyond what the parsers can handle is a message, not a crash. The
alias check walks the parsed node graph only when a document contains both `&` and `*`, so
ordinary manifests keep the C loader's full speed.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from plugin.models import Origin, SourceObject

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a manifest is never this big; refuse rather than exhaust memory
# Upper bound on the nodes a file may hold, from its syntax. A realistic 64 MiB dump holds about
# 5,500,000; 64 MiB of `[a,a,a,...]` holds 32,000,000 and would need some 10 GB to parse.
MAX_NODES = 8_000_000
# Nodes aliases may add to one YAML document once expanded, and how deep they may nest it
# (1,000 is also libyaml's own limit for nesting written out).
MAX_ALIAS_NODES = 1_000_000
MAX_DEPTH = 1_000
# Plain scalars whose YAML type the loader remembers (see `_manifest_loader`), and the longest one.
MAX_REMEMBERED_SCALARS = 50_000
MAX_REMEMBERED_SCALAR = 256


@dataclass(frozen=True)
class FileProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class FileScan:
    objects: list[SourceObject] = field(default_factory=list)  # stays empty when the objects are streamed
    problems: list[FileProblem] = field(default_factory=list)  # the result is incomplete when there is any
    # informational: documents that are not Kubernetes objects, linked folders
    skipped: list[FileProblem] = field(default_factory=list)


def expand_paths(paths: list[str], skipped: list[FileProblem] | None = None
                 ) -> tuple[list[str], list[FileProblem]]:
    """Files to read, in a stable order: a file as given, a folder walked recursively for
    .yaml/.yml/.json files. Links to folders inside a folder are not followed, so loops cannot
    happen; each is noted in `skipped`. A manifest name that leads nowhere (a broken or looping
    link) is a problem: the files it was meant to hold are missing from the result."""
    files: list[str] = []
    problems: list[FileProblem] = []
    for path in paths:
        if path == "-":
            files.append(path)
        elif os.path.isdir(path):
            for root, dirs, names in os.walk(path, onerror=lambda err: problems.append(_unreadable_folder(err))):
                dirs.sort()
                for name in dirs:
                    full = os.path.join(root, name)
                    if skipped is not None and os.path.islink(full):
                        skipped.append(FileProblem(full, "a link to a folder (links inside folders are not "
                                                         "followed)"))
                for name in sorted(names):
                    full = os.path.join(root, name)
                    if not name.endswith(MANIFEST_SUFFIXES):
                        continue
                    if os.path.isfile(full):
                        files.append(full)
                    elif os.path.islink(full) and not os.path.exists(full):
                        problems.append(FileProblem(full, "a broken or looping link, not read"))
        elif os.path.isfile(path):
            files.append(path)
        elif os.path.lexists(path):
            problems.append(FileProblem(path, "not a regular file or folder (a broken or looping link?)"))
        else:
            problems.append(FileProblem(path, "no such file or directory"))
    return files, problems


def _unreadable_folder(err: OSError) -> FileProblem:
    # os.walk would skip a folder it cannot list without a word; its manifests would be missing.
    return FileProblem(str(err.filename), f"{(err.strerror or str(err)).lower()}, folder not read")


def read_manifests(paths: list[str]) -> FileScan:
    """Every object of the input in one list, for a caller that needs them all at once (explain
    looks up its target, the owners and the pods in the same objects)."""
    scan = FileScan()
    scan.objects.extend(stream_manifests(paths, scan))
    return scan


def stream_manifests(paths: list[str], scan: FileScan) -> Iterator[SourceObject]:
    """The objects of the input, file by file, each yielded as soon as its document is parsed;
    problems and skipped documents are added to `scan` (its `objects` are left alone).

    A scan keeps only the objects with findings: holding every parsed object in a list made the
    garbage collector rescan an ever larger heap, which nearly doubled the reading time."""
    files, problems = expand_paths(paths, scan.skipped)
    scan.problems.extend(problems)
    for path in files:
        display = "<stdin>" if path == "-" else path
        try:
            text = _read_text(path)
            for found in _documents(text, display):
                if isinstance(found, _Refused):
                    scan.problems.append(FileProblem(display, found.message))
                    continue
                source = _source_object(*found, display=display, skipped=scan.skipped)
                if source is not None:
                    yield source
        except _ParseError as err:
            scan.problems.append(FileProblem(display, err.message))
        except RecursionError:
            # The pure-Python YAML parser and json recurse once per level.
            scan.problems.append(FileProblem(display, "nested too deeply to read (deeper than the parser's "
                                                      "recursion limit), not read"))
        except MemoryError:
            scan.problems.append(FileProblem(display, "ran out of memory while parsing, not read"))


class _ParseError(Exception):
    """The rest of the file cannot be read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Refused:
    """One document left out; the documents after it are still read."""

    message: str


Document = tuple[Any, "int | None", int]  # (value, first line, index)


def _read_text(path: str) -> str:
    too_large = _ParseError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, not read")
    try:
        if path == "-":
            data = _read_bounded(sys.stdin.buffer)
        else:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > MAX_FILE_BYTES:
                    raise too_large  # without reading it
                # read(n) allocates n bytes up front: ask for what the file holds, not the limit.
                data = handle.read(size + 1) if size else _read_bounded(handle)
                if len(data) > size:  # it grew while we read
                    data += _read_bounded(handle, MAX_FILE_BYTES + 1 - len(data))
    except OSError as err:
        raise _ParseError(err.strerror or str(err)) from None
    if len(data) > MAX_FILE_BYTES:
        raise too_large
    if b"\0" in data[:8192]:
        raise _ParseError("binary file, not a manifest")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _ParseError(f"not UTF-8 text (byte {err.start})") from None


def _read_bounded(stream: Any, limit: int = MAX_FILE_BYTES + 1) -> bytes:
    """At most `limit` bytes of a stream of unknown length (a pipe), a chunk at a time."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = stream.read(min(1 << 20, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _documents(text: str, display: str) -> Iterator[Document | _Refused]:
    """(document, its first line, index) for every document; List items are flattened."""
    is_json = text.lstrip().startswith(("{", "["))
    _check_size(text, is_json)
    if is_json:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            problem = f"line {err.lineno}, column {err.colno}: invalid JSON: {err.msg}"
        except ValueError as err:  # a number of more than 4,300 digits
            raise _ParseError(f"invalid JSON: {_first_sentence(err)}") from None
        else:
            yield from _flatten(value, 1, 0, None)
            return
        if display.endswith(".json"):
            raise _ParseError(problem)
        # A .yaml file (or stdin) opening with a flow collection, `{...}` then `---`, as some
        # generators write: YAML is a superset. If it is neither, the JSON error is the one to show.
        _check_size(text, is_json=False)
        try:
            documents = list(_yaml_documents(text))
        except _ParseError:
            raise _ParseError(problem) from None
        yield from documents
        return
    yield from _yaml_documents(text)


def _check_size(text: str, is_json: bool) -> None:
    nodes = _node_bound(text, is_json)
    if nodes > MAX_NODES:
        raise _ParseError(f"too many nodes to parse safely (up to {nodes:,}; the limit is {MAX_NODES:,}), "
                          "not read")


def _node_bound(text: str, is_json: bool) -> int:
    """At least the number of nodes `text` can hold: every node but the first follows one of
    these characters (str.count runs at memory speed, so this costs nothing)."""
    separators = ",:[{" if is_json else ",:[{\n-?"
    return 1 + sum(text.count(c) for c in separators)


def _flatten(value: Any, line: int | None, document: int, item_lines: list[int] | None
             ) -> Iterator[tuple[Any, int | None, int]]:
    if isinstance(value, dict) and isinstance(value.get("kind"), str) and value["kind"].endswith("List") \
            and isinstance(value.get("items"), list):
        for index, item in enumerate(value["items"]):
            item_line = item_lines[index] if item_lines and index < len(item_lines) else line
            yield item, item_line, index
    else:
        yield value, line, document


@functools.lru_cache(maxsize=1)
def _loader_class() -> Any:
    """The manifest loader over PyYAML's safe loader, the C one when it is built."""
    import yaml

    return _manifest_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _manifest_loader(base: Any) -> Any:
    """`base` (a safe loader) minus the implicit timestamp type: the API server's YAML reader
    keeps `2024-01-01` a string, so a namespace or label spelled like a date must stay one here
    too (and `2024-13-45` must not fail as a bad date).

    Even the C loader calls Python for every node, to resolve its tag and to construct it; two
    shortcuts there make it nearly twice as fast on manifests, with the same result to the type."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    str_tag, map_tag, seq_tag = base.DEFAULT_SCALAR_TAG, base.DEFAULT_MAPPING_TAG, base.DEFAULT_SEQUENCE_TAG
    # The other types a plain scalar can resolve to; a merge key `<<`, a value key `=` and every
    # explicit tag are left to PyYAML.
    scalar_constructors = {tag: base.yaml_constructors[tag] for tag in (
        "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")}

    class ManifestLoader(base):  # type: ignore[misc, valid-type]
        # Shared by every loader of the class: a tag depends only on its implicit resolvers.
        _plain_scalar_tags: dict[str, str] = {}

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            """The base method tries the implicit types' regular expressions on every plain
            scalar, while manifests repeat the same few thousand (`name`, `TCP`, `true`): its
            answer is remembered. Without path resolvers (none is ever added) that answer
            depends on the text alone, and is the default tag for anything else."""
            if self.yaml_path_resolvers:
                return super().resolve(kind, value, implicit)
            if kind is ScalarNode:
                if not implicit[0]:  # not plain (quoted, or tagged `!`): never an implicit type
                    return str_tag
                tags = self._plain_scalar_tags
                tag = tags.get(value)
                if tag is None:
                    tag = super().resolve(kind, value, implicit)
                    # Bounded, so a file of distinct (or very long) scalars cannot grow it.
                    if len(value) <= MAX_REMEMBERED_SCALAR:
                        if len(tags) >= MAX_REMEMBERED_SCALARS:
                            tags.clear()
                        tags[value] = tag
                return tag
            if kind is MappingNode:
                return map_tag
            if kind is SequenceNode:
                return seq_tag
            return super().resolve(kind, value, implicit)

        def construct_document(self, node: Any) -> Any:
            """PyYAML constructs every node through generic machinery made for aliases (several
            calls per scalar, a generator per mapping). A document that is a plain tree, as
            nearly every manifest is, is built directly; any other (an alias, a merge key, an
            explicit tag, a scalar that fails to construct) is built by PyYAML from the start,
            so its value, or its error, is PyYAML's own."""
            try:
                return self._plain_tree(node)
            except Exception:
                return super().construct_document(node)

        def _plain_tree(self, root: Any) -> Any:
            """The document's value when it holds only mappings, sequences and the scalars of the
            implicit types; raises otherwise. Iterative, for documents nested 1,000 deep."""
            if root.__class__ is ScalarNode:
                return self._plain_scalar(root)
            seen: set[int] = set()  # a collection met twice is an alias
            stack: list[tuple[Any, Any]] = []

            def enter(node: Any) -> dict | list:
                if id(node) in seen:
                    raise _NotPlain
                seen.add(id(node))
                collection = self._plain_collection(node)
                stack.append((collection, node))
                return collection

            value = enter(root)
            while stack:
                collection, node = stack.pop()
                if collection.__class__ is dict:
                    for key_node, value_node in node.value:
                        key = self._plain_scalar(key_node)  # a scalar: always hashable
                        collection[key] = (self._plain_scalar(value_node) if value_node.__class__ is ScalarNode
                                           else enter(value_node))
                else:
                    for item_node in node.value:
                        collection.append(self._plain_scalar(item_node) if item_node.__class__ is ScalarNode
                                          else enter(item_node))
            return value

        def _plain_scalar(self, node: Any) -> Any:
            if node.__class__ is not ScalarNode:
                raise _NotPlain
            if node.tag == str_tag:
                return node.value
            construct = scalar_constructors.get(node.tag)
            if construct is None:
                raise _NotPlain
            return construct(self, node)

        def _plain_collection(self, node: Any) -> dict | list:
            if node.__class__ is MappingNode and node.tag == map_tag:
                return {}
            if node.__class__ is SequenceNode and node.tag == seq_tag:
                return []
            raise _NotPlain

    ManifestLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return ManifestLoader


class _NotPlain(Exception):
    """A YAML node the direct construction leaves to PyYAML."""


def _yaml_documents(text: str) -> Iterator[Document | _Refused]:
    import yaml

    loader_class = _loader_class()
    loader = None
    try:
        loader = loader_class(text)  # the pure-Python reader checks every character here
        document, start = 0, 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            # Anchors live within one document; without an anchor (&) and an alias (*) in its
            # text no node can be shared, so nothing can expand and the walk is skipped.
            end = node.end_mark.index
            may_alias = text.find("&", start, end) >= 0 and text.find("*", start, end) >= 0
            start = end
            line = node.start_mark.line + 1
            refusal = _expansion_problem(node) if may_alias else None
            if refusal:
                yield _Refused(f"line {line}: {refusal}; the document is not read")
            else:
                try:
                    value = loader.construct_document(node)
                except (ValueError, TypeError, OverflowError) as err:
                    # A scalar Python cannot hold: an integer of more than 4,300 digits, a
                    # `!!timestamp 2024-13-45`.
                    raise _ParseError(f"line {line}: invalid YAML: {_first_sentence(err)}") from None
                except (KeyError, IndexError) as err:
                    # PyYAML's own slips on explicitly tagged values: `!!bool maybe`, `!!int ""`.
                    raise _ParseError(f"line {line}: invalid YAML: a value its explicit tag cannot hold "
                                      f"({_first_sentence(err)})") from None
                yield from _flatten(value, line, document, _item_lines(node))
            document += 1
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise _ParseError(f"{where}invalid YAML: {err.problem or err.context}") from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow, e.g. a control character
        # libyaml counts the position in UTF-8 bytes, the Python reader in characters.
        before = (text.encode("utf-8")[:err.position].decode("utf-8", "ignore")
                  if issubclass(loader_class, getattr(yaml, "CParser", ())) else text[:err.position])
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        raise _ParseError(f"line {line}, column {column}: invalid YAML: {err.reason} "
                          f"(#x{err.character if isinstance(err.character, int) else ord(err.character):04x})"
                          ) from None
    except yaml.YAMLError as err:
        raise _ParseError(f"invalid YAML: {_first_sentence(err)}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _first_sentence(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text.split("; ")[0][:200]


def _children(node: Any) -> list[Any]:
    if node.id == "sequence":
        return node.value  # type: ignore[no-any-return]
    return [part for pair in node.value for part in pair]


def _expansion_problem(root: Any) -> str | None:
    """Why a composed YAML document must not be constructed, or None.

    An alias makes the node graph share the anchored node, so a few lines can stand for a
    billion nodes. Each collection's size and depth as if every alias were expanded is computed
    once, children first, without recursion, so the walk is linear in the nodes parsed."""
    if root.id == "scalar":
        return None
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    entered: set[int] = set()  # collections on the path from the root to the one on top
    written = 1  # nodes as written, an alias counting as one
    stack = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in size:
            stack.pop()
            continue
        children = _children(node)
        if key not in entered:
            entered.add(key)
            waiting = False
            for child in children:
                if child.id != "scalar" and id(child) not in size:
                    if id(child) in entered:
                        return "refused: an alias refers to a node that contains it (a recursive document)"
                    stack.append(child)
                    waiting = True
            if waiting:
                continue
        total, deepest = 1, 1 if children else 0
        for child in children:
            if child.id != "scalar":
                total += size[id(child)]
                deepest = max(deepest, depth[id(child)])
            else:
                total += 1
        size[key], depth[key] = total, deepest + 1
        written += len(children)
        entered.discard(key)
        stack.pop()
    added = size[id(root)] - written
    if added > MAX_ALIAS_NODES:
        return (f"refused: its aliases expand it by {added:,} nodes, more than the {MAX_ALIAS_NODES:,} "
                "allowed (a YAML bomb?)")
    if depth[id(root)] > MAX_DEPTH:
        return f"refused: its aliases nest it {depth[id(root)]:,} levels deep, more than the {MAX_DEPTH:,} allowed"
    return None


def _item_lines(node: Any) -> list[int] | None:
    """Lines of the `items` of a YAML List, so each flattened object keeps its own line."""
    for key, value in getattr(node, "value", []) if node.id == "mapping" else []:
        if getattr(key, "value", None) == "items" and value.id == "sequence":
            return [item.start_mark.line + 1 for item in value.value]
    return None


def _source_object(obj: Any, line: int | None, document: int, *, display: str,
                   skipped: list[FileProblem]) -> SourceObject | None:
    """The document as a Kubernetes object, or None (noted in `skipped` unless it is empty)."""
    if obj is None:
        return None  # an empty document, e.g. a trailing `---`
    if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str) \
            or not isinstance(obj.get("apiVersion"), str):
        where = f"line {line}" if line else f"document {document}"
        skipped.append(FileProblem(display, f"{where}: not a Kubernetes object (no apiVersion and kind)"))
        return None
    return SourceObject(obj["kind"], obj["apiVersion"], obj, Origin(file=display, line=line, document=document))
