"""Answer only for the host names in ``api.trusted_hosts``.

Why: ``Location`` and ``Link`` are absolute URLs built from the request's
``Host`` (WebOb's ``request.host``: the ``Host`` header, or waitress's
``server_name`` and port when there is none). Left unchecked, a client or a
careless proxy sending ``Host: evil.example`` would have the service write
URLs that point elsewhere, and caches could keep them. So a request whose
host is not listed gets ``400`` before it reaches a view, and no URL the
service writes names a host the operator did not choose.

The rules:

- ``api.trusted_hosts`` is a space-separated list of host names, without a
  port: a ``Host`` with any port (or none) matches a listed name. IPv6
  addresses are written as in a ``Host`` header, in brackets (``[::1]``).
  Names compare case-insensitively, and one trailing dot is ignored
  (``example.com.`` is ``example.com``). Unset, it is
  :data:`DEFAULT_TRUSTED_HOSTS`, what ``make run`` is reached by; set to
  nothing or to a name with a port, the app refuses to start.
- The host checked is the one waitress hands the app, after its trusted-proxy
  handling: behind a proxy whose ``X-Forwarded-Host`` waitress trusts
  (production.ini), that is the public name the client used.
- A ``Host`` that is empty, malformed (a bad port, several values) or missing
  from an HTTP/1.1 request gets ``400`` (RFC 9112 section 3.2 requires one).
  An HTTP/1.0 request may omit it: WebOb then builds URLs from waitress's
  ``server_name`` (``waitress.invalid`` unless [server:main] sets it), a name
  the operator chose, so it is checked like a ``Host``: such a request is
  served only if ``server_name`` is listed.
- ``/healthz`` and ``/readyz`` answer whatever the host: load balancers and
  probes often address the service by its IP address. They write no URLs.

A tween just under the outermost one (:mod:`company_service.request_id`), so
the ``400`` still carries ``X-Request-ID`` and the security headers, and above
CORS and pyramid_tm: a refused request is not a preflight, opens no
transaction and looks no token up. Only the declared-oversize ``413``
(:mod:`company_service.body_limit`, an execution policy) comes before it; it
writes no URL.
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
    """The host WebOb builds URLs from, or ``None`` for an HTTP/1.1 request
    without a ``Host`` header."""
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
        # A forgotten public name in production shows up here, request by request.
        log.info("refused host %.100r (%s)", host, SETTING)
        return problem_response(
            request,
            400,
            "the Host header is missing or names a host this service does not serve",
        )

    return trusted_hosts_tween


def includeme(config: Configurator) -> None:
    # Fail at start-up, not at the first request, on a bad setting.
    trusted_hosts(config.get_settings())
    # Under the standard headers, over CORS when it is on. Pyramid's implicit
    # order is best-effort: tests/functional/test_trusted_hosts.py checks that
    # pyramid_tm comes below too (naming it here would push CORS under the
    # exception view).
    config.add_tween(HOSTS_TWEEN, under=STANDARD_HEADERS_TWEEN, over=(CORS_TWEEN, MAIN))
