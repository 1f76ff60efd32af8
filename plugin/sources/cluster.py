"""The live-cluster source: objects of one resource, page by page, as the API server sends them.

Pages are consumed as they arrive and nothing is kept here, so memory does not grow with the
number of objects; list items carry no `kind`, so it is set from the resource listed.
"""

from __future__ import annotations

from collections.abc import Iterator

from plugin.models import Origin, SourceObject
from plugin.owners import ApiReader
from plugin.resources import Resource


def cluster_objects(api: ApiReader, resource: Resource, namespace: str | None, *, context: str | None,
                    label_selector: str | None = None, field_selector: str | None = None
                    ) -> Iterator[SourceObject]:
    origin = Origin(context=context)
    for page in api.list_pages(resource, namespace, label_selector=label_selector,
                               field_selector=field_selector):
        for obj in page:
            if isinstance(obj, dict):
                yield SourceObject(resource.kind, resource.api_version, obj, origin)
