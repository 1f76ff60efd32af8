"""`mounts`: every hostPath volume of every workload, Docker's or not.

This is the Kubernetes docs' query without its `grep`, which the docs suggest for reviewing
other host mounts, plus the hostPath and local PersistentVolumes that pods reach through claims.
It reuses the scan pipeline with one listing rule in place of the detection rules, so owners,
aggregation and printing are the same as `scan`'s.
"""

from __future__ import annotations

from collections.abc import Iterator

from plugin.models import Finding
from plugin.podspec import PodSpecView
from plugin.rules import Rule, RuleSettings


def _every_host_path(view: PodSpecView, settings: RuleSettings) -> Iterator[Finding]:
    for volume in view.host_path_volumes:
        mounts = view.mounts_of(volume.name)
        # A PersistentVolume's host path, reached through a claim, is listed with the claim as evidence.
        kind = f"{volume.claim.source} PersistentVolume" if volume.claim else "hostPath volume"
        through = f" ({volume.claim.describe()})" if volume.claim else ""
        evidence = volume.claim.evidence() if volume.claim else None
        for container, mount in mounts:
            yield Finding(LISTING.id, LISTING.name, LISTING.severity, f"{kind} mounted by a container{through}",
                          container=container.name, volume=volume.name, host_path=volume.path,
                          host_path_type=volume.type, mount_path=mount.mount_path, sub_path=mount.sub_path,
                          read_only=mount.read_only, evidence=evidence)
        if not mounts:
            yield Finding(LISTING.id, LISTING.name, LISTING.severity,
                          f"{kind} declared{through}, but no container mounts it",
                          volume=volume.name, host_path=volume.path, host_path_type=volume.type, evidence=evidence)


LISTING = Rule("HP000", "host-path", "info", "every hostPath volume (the `mounts` command)", _every_host_path)
LISTING_RULES = (LISTING,)
