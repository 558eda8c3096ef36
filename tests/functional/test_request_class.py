"""The app's request class defines what a request knows (request.py): no
request extension makes Pyramid build a new class for every request."""

from pyramid.interfaces import IRequestExtensions

from company_service.request import Request


def test_the_app_adds_no_request_properties_per_request(app):
    extensions = app.registry.queryUtility(IRequestExtensions)
    assert extensions is None or not extensions.descriptors


def test_each_property_is_computed_once_per_request(app, monkeypatch):
    calls = []

    def counted(name, value):
        def compute(request):
            calls.append(name)
            return value

        return compute

    monkeypatch.setattr("pyramid_tm.create_tm", counted("tm", "manager"))
    monkeypatch.setattr(
        "company_service.db.request_dbsession", counted("dbsession", "session")
    )
    monkeypatch.setattr(
        "company_service.security.find_identity", counted("identity", None)
    )
    request = Request.blank("/")
    request.registry = app.registry
    for _ in range(2):
        assert (request.tm, request.dbsession) == ("manager", "session")
        assert request.token_identity is None
        assert len(request.request_id) == 32
    assert sorted(calls) == ["dbsession", "identity", "tm"]
