"""Validate test fixtures against the official Kubernetes schemas, so tests never run on objects
a real cluster would reject.

Uses `kubernetes_validate` in strict mode (unknown fields are errors) with the newest schema
version it ships, offline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import kubernetes_validate
from kubernetes_validate.utils import latest_version

KUBERNETES_VERSION = latest_version()


class InvalidObject(ValueError):
    """A fixture that does not match its schema; the message names the object and the field."""


def _describe(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    name = metadata.get("name", "<no name>")
    namespace = metadata.get("namespace")
    where = f"{namespace}/{name}" if namespace else name
    return f"{obj.get('kind', '<no kind>')} {where} ({obj.get('apiVersion', '<no apiVersion>')})"


def validate_object(obj: Mapping[str, Any]) -> None:
    """Raise InvalidObject unless `obj` is valid for Kubernetes KUBERNETES_VERSION."""
    if not isinstance(obj.get("kind"), str) or not isinstance(obj.get("apiVersion"), str):
        raise InvalidObject(f"{_describe(obj)}: kind and apiVersion are required")
    try:
        kubernetes_validate.validate(dict(obj), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path) or "."
        raise InvalidObject(f"{_describe(obj)} is invalid at {path}: {e.message}") from None
    except kubernetes_validate.SchemaNotFoundError as e:
        raise InvalidObject(f"{_describe(obj)}: {e.message}") from None


def validate_objects(objects: Iterable[Mapping[str, Any]]) -> None:
    for obj in objects:
        validate_object(obj)
