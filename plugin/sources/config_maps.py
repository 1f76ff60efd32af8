"""The opt-in ConfigMap source of live scans (`--read-configmaps`): one GET per ConfigMap named,
never a list of them, never a Secret. Which ConfigMaps is decided elsewhere (those mounted by a
workload with findings or by a known log agent: `plugin.config_mounts.ConfigIndex.wanted`); a
ConfigMap that may not be read is a warning naming it, and one that does not exist is skipped
(the pods mounting it cannot start, or mount it as optional)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from plugin.errors import ApiError
from plugin.models import Origin, SourceObject
from plugin.validation import namespace_problems, path_segment_problems

if TYPE_CHECKING:
    from plugin.api import ApiClient


def read_config_maps(api: ApiClient, wanted: Iterable[tuple[str, str]], context: str | None,
                     problems: list[str]) -> list[SourceObject]:
    """The ConfigMaps of `wanted` ((namespace, name) pairs) that exist and may be read; a warning in
    `problems` for each that may not."""
    from plugin.resources import CONFIGMAPS

    found = []
    for namespace, name in wanted:
        if path_segment_problems(name) or namespace_problems(namespace):
            problems.append(f'a pod spec mounts the ConfigMap "{name}" in "{namespace}", which is not a valid '
                            "name: not read")
            continue
        try:
            obj = api.get(CONFIGMAPS, namespace, name)
        except ApiError as err:
            if err.status != 403:
                raise
            problems.append(f'cannot get the ConfigMap "{name}" in the namespace "{namespace}" (Forbidden): '
                            "its configuration is not checked")
            continue
        if obj is not None:
            found.append(SourceObject(CONFIGMAPS.kind, CONFIGMAPS.api_version, obj, Origin(context=context)))
    return found
