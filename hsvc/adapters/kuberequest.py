"""Requests to the API as data: what a GET reads, its URL path and the words for messages.

A request is a :class:`Request` (verb, resource, namespace, selectors) until
:meth:`hsvc.adapters.kuberest.RestClient._send` sends it; the same value builds
the URL and every message about it.
"""

from __future__ import annotations

import urllib.parse

from hsvc.core.dataclass import dataclass
from hsvc.errors import UsageError


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One GET against the API, described well enough to build the URL and the messages."""

    verb: str  # "get" or "list"
    resource: str  # plural, e.g. "endpointslices"
    group: str = ""
    version: str = "v1"
    namespace: str | None = None
    name: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    subresource: str = ""  # "portforward", "exec": verb "create" in RBAC

    @property
    def path(self) -> str:
        """The URL path, every name quoted."""
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespace is not None and self.resource != "namespaces":
            root += f"/namespaces/{urllib.parse.quote(self.namespace, safe='')}"
        root += f"/{self.resource}"
        if self.name is not None:
            root += f"/{urllib.parse.quote(self.name, safe='')}"
        if self.subresource:
            root += f"/{self.subresource}"
        return root

    @property
    def qualified_resource(self) -> str:
        """``pods``, ``statefulsets.apps``, ``pods/exec``: the name RBAC rules and kubectl use."""
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{resource}.{self.group}" if self.group else resource

    @property
    def scope(self) -> str:
        """``at the cluster scope`` or ``in namespace "ms"``, for messages."""
        if self.namespace is None or self.resource == "namespaces":
            return "at the cluster scope"
        return f'in namespace "{self.namespace}"'

    def describe(self) -> str:
        """``list pods in namespace "ms"``, ``get services "eureka" in namespace "ms"``."""
        what = self.qualified_resource
        if self.name is not None:
            what += f' "{self.name}"'
            if self.resource == "namespaces" or self.namespace is None:
                return f"{self.verb} {what}"
        return f"{self.verb} {what} {self.scope}"


def list_request(
    resource: str, namespace: str | None, group: str = "", **selectors: str
) -> Request:
    """A LIST of ``resource`` (``namespace`` None: every namespace)."""
    return Request(verb="list", resource=resource, group=group, namespace=namespace, **selectors)


def get_request(resource: str, namespace: str | None, name: str, group: str = "") -> Request:
    """A GET of one named object.

    Raises:
        UsageError: ``name`` is empty: the path would end in ``/``, which is a LIST.
    """
    if not name:
        raise UsageError(f"cannot get {resource}: no name given")
    return Request(verb="get", resource=resource, group=group, namespace=namespace, name=name)


def forbidden_note(request: Request) -> str:
    """``pods (list forbidden in namespace ms)``, for ``Snapshot.unreadable``."""
    scope = (
        "at the cluster scope" if request.namespace is None else f"in namespace {request.namespace}"
    )
    return f"{request.qualified_resource} ({request.verb} forbidden {scope})"
