"""The live-cluster source: objects of one resource, page by page, as the API server sends them.

Pages are consumed as they arrive and nothing is kept here, so memory does not grow with the
number of objects; list items carry no `kind`, so it is set from the resource listed.

While the rules run on one page, the next page is already being requested, received and
decoded in a background thread: waiting for the API server (its etcd read, the transfer)
overlaps the scan instead of adding to it. Decoding still takes turns with the rules under the
interpreter lock. Only one page is read ahead, so at most two pages are held at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TypeVar

from plugin.models import Origin, SourceObject
from plugin.owners import ApiReader
from plugin.resources import Resource

T = TypeVar("T")


def cluster_objects(api: ApiReader, resource: Resource, namespace: str | None, *, context: str | None,
                    label_selector: str | None = None, field_selector: str | None = None,
                    metadata_only: bool = False) -> Iterator[SourceObject]:
    """Every object of `resource` in `namespace` (None: all). `metadata_only` lists only their
    metadata (see `ApiClient.list_pages`)."""
    origin, kind, api_version = Origin(context=context), resource.kind, resource.api_version
    pages = api.list_pages(resource, namespace, label_selector=label_selector, field_selector=field_selector,
                           metadata_only=metadata_only)
    for page in read_ahead(pages):
        for obj in page:
            if isinstance(obj, dict):
                yield SourceObject(kind, api_version, obj, origin)


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """The items of `items`, each produced in a background thread while the caller works on the
    one before. Requests stay one at a time and in order: the next is started only once the
    previous has arrived. An exception in the producer is raised here, at the item it replaced.
    A daemon thread, so a caller that stops early (or Ctrl-C) never waits for a page in flight."""

    def produce(box: list[tuple[str, object]]) -> None:
        try:
            box.append(("item", next(items)))
        except StopIteration:
            box.append(("end", None))
        except BaseException as err:  # handed to the consumer's thread, raised there
            box.append(("error", err))

    def start() -> tuple[threading.Thread, list[tuple[str, object]]]:
        box: list[tuple[str, object]] = []
        thread = threading.Thread(target=produce, args=(box,), name="read-ahead", daemon=True)
        thread.start()
        return thread, box

    pending = start()
    while True:
        thread, box = pending
        thread.join()
        outcome, value = box[0]
        if outcome == "end":
            return
        if outcome == "error":
            assert isinstance(value, BaseException)
            raise value
        pending = start()
        yield value  # type: ignore[misc]
