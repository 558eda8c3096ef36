"""One request class, made once, carrying every reified request property.

``config.add_request_method(..., reify=True)`` (ours: ``dbsession``,
``token_identity``, ``request_id``; pyramid_tm's ``tm``) makes Pyramid build
a fresh subclass of the request class for every request, to hang the
properties on: about 13 us a request, for the same four descriptors each
time. Here they are moved, once, onto a subclass that is then the request
factory, so each request is a plain instance of it.
"""

from pyramid.config import Configurator
from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.request import Request


def bake_request_properties(config: Configurator) -> None:
    """Call last, after every ``add_request_method``: later ones would be
    applied per request again (correct, only slower)."""
    config.commit()
    extensions = config.registry.queryUtility(IRequestExtensions)
    if extensions is None or not extensions.descriptors:
        return
    base = config.registry.queryUtility(IRequestFactory, default=Request)
    properties = {"__module__": base.__module__, **extensions.descriptors}
    config.set_request_factory(type(base.__name__, (base,), properties))
    extensions.descriptors.clear()
