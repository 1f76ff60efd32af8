"""The live-cluster source: objects of one resource, page by page, as the API server sends them.

Pages are consumed as they arrive and nothing is kept here, so memory does not grow with the
number of objects; list items carry no `kind`, so it is set from the resource listed.

Pages are read one after the other. Reading the next page in a thread while this one is scanned
was tried and measured: the JSON decoding, most of the client's work, stays behind the one
interpreter lock, so on loopback it cost 4% and on a server 100 ms away it saved 6%.
"""

from __future__ import annotations

from collections.abc import Iterator

from plugin.models import Origin, SourceObject
from plugin.owners import ApiReader
from plugin.resources import Resource


def cluster_objects(api: ApiReader, resource: Resource, namespace: str | None, *, context: str | None,
                    label_selector: str | None = None, field_selector: str | None = None,
                    metadata_only: bool = False) -> Iterator[SourceObject]:
    """Every object of `resource` in `namespace` (None: all). `metadata_only` lists only their
    metadata (see `ApiClient.list_pages`)."""
    origin, kind, api_version = Origin(context=context), resource.kind, resource.api_version
    for page in api.list_pages(resource, namespace, label_selector=label_selector, field_selector=field_selector,
                               metadata_only=metadata_only):
        for obj in page:
            if isinstance(obj, dict):
                yield SourceObject(kind, api_version, obj, origin)

