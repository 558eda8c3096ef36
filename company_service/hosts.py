"""Answer only for the host names in ``api.trusted_hosts``.

``Location`` and ``Link`` are built from the request's host, so any other
host is a 400 and no URL the service writes names a host the operator did
not choose. The rules: docs/API.md, "Errors"; the tween's place:
docs/DESIGN.md, "The tweens, outermost first".
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.settings import aslist
from pyramid.tweens import MAIN

from .problems import problem_response
from .request_id import STANDARD_HEADERS_TWEEN

log = logging.getLogger(__name__)

SETTING = "api.trusted_hosts"
DEFAULT_TRUSTED_HOSTS = "localhost 127.0.0.1 [::1]"
# Answered whatever the host: they write no URLs, and probes use addresses.
ANY_HOST_PATHS = frozenset({"/healthz", "/readyz"})

HOSTS_TWEEN = "company_service.hosts.trusted_hosts_tween_factory"
CORS_TWEEN = "company_service.cors.cors_tween_factory"

Handler = Callable[[Request], Response]


def host_name(host: str) -> str | None:
    """The name in a ``Host`` value (``name``, ``name:port``, ``[v6]:port``),
    lowercased and without a trailing dot; ``None`` when it is malformed."""
    if host.startswith("["):
        name, bracket, rest = host.partition("]")
        name += bracket
        port_given, _, port = rest.partition(":")
        if not bracket or port_given:
            return None
    else:
        name, _, port = host.partition(":")
    # RFC 3986's port is *DIGIT: "name:" is allowed, "name:x" or "a:b:c" is not.
    if port and not (port.isascii() and port.isdigit()):
        return None
    name = name.lower().removesuffix(".")
    return name or None


def trusted_hosts(settings: Mapping[str, Any]) -> frozenset[str]:
    """``api.trusted_hosts`` as normalized names; a mistake stops the start."""
    names: Iterable[str] = aslist(settings.get(SETTING, DEFAULT_TRUSTED_HOSTS))
    trusted = set()
    for entry in names:
        name = host_name(entry)
        if name is None or name != entry.lower().removesuffix("."):
            raise ConfigurationError(
                f"{SETTING}: {entry!r} is not a host name without a port "
                "(IPv6 addresses go in brackets: [::1])"
            )
        trusted.add(name)
    if not trusted:
        raise ConfigurationError(
            f"{SETTING} lists no host: every request would be refused"
        )
    return frozenset(trusted)


def requested_host(request: Request) -> str | None:
    """The host WebOb builds URLs from (on HTTP/1.0 perhaps waitress's
    ``server_name``), or ``None`` for an HTTP/1.1 request without ``Host``."""
    environ = request.environ
    if "HTTP_HOST" not in environ and environ.get("SERVER_PROTOCOL") != "HTTP/1.0":
        return None
    host: str = request.host
    return host


def trusted_hosts_tween_factory(handler: Handler, registry: Registry) -> Handler:
    trusted = trusted_hosts(registry.settings)

    def trusted_hosts_tween(request: Request) -> Response:
        # The raw WSGI value: request.path_info would raise on a non-UTF-8
        # path, whose 400 the exception view below answers.
        if request.environ.get("PATH_INFO") in ANY_HOST_PATHS:
            return handler(request)
        host = requested_host(request)
        name = host_name(host) if host is not None else None
        if name in trusted:
            return handler(request)
        log.info("refused host %.100r (%s)", host, SETTING)
        return problem_response(
            request,
            400,
            "the Host header is missing or names a host this service does not serve",
        )

    return trusted_hosts_tween


def includeme(config: Configurator) -> None:
    trusted_hosts(config.get_settings())  # a bad setting stops the start
    # Naming pyramid_tm here would push CORS under the exception view.
    config.add_tween(HOSTS_TWEEN, under=STANDARD_HEADERS_TWEEN, over=(CORS_TWEEN, MAIN))
