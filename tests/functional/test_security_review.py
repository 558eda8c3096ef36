"""A security review, as tests: what SECURITY.md claims, checked against the code.

(a) tokens are compared in constant time and stored only as SHA-256 hashes;
(b) tokens (and their hashes) are never logged, even when requests fail;
(c) no SQL is built from strings anywhere in the package (an AST check);
(d) every response carries the security headers;
(e) body limits answer before authentication, and production.ini is hardened.

That a 500 shows no internals is tested in test_errors.py and not repeated.
"""

import ast
import base64
import configparser
import hashlib
import hmac
import io
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from pyramid.settings import asbool, aslist
from sqlalchemy import Engine, event, select
from waitress.adjustments import Adjustments
from webob import Request

from company_service import cli
from company_service.models import ApiToken
from company_service.models.meta import Base
from company_service.testing import (
    ROOT,
    TESTING_INI,
    bearer,
    committed,
    make_app,
    store_token,
)
from company_service.tokens import hash_token, new_token

API = "/api/v1"
PROBE = f"{API}/_probe"
WHOAMI = f"{PROBE}/whoami"
DEPARTMENTS = f"{API}/departments"
PACKAGE = ROOT / "company_service"
PRODUCTION_INI = ROOT / "production.ini"


# --- (a) constant-time comparison, hashes only ----------------------------------------


@pytest.fixture
def compare_digest_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """Every call of hmac.compare_digest, still doing the real comparison."""
    calls: list[tuple[Any, Any]] = []
    original = hmac.compare_digest

    def recording(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    return calls


def test_an_authenticated_request_compares_the_hash_with_compare_digest(
    real_app, committed_editor_token, compare_digest_calls
):
    answer = real_app.get(WHOAMI, headers=bearer(committed_editor_token))
    assert answer.json["role"] == "editor"
    digest = hash_token(committed_editor_token).encode("ascii")
    assert compare_digest_calls == [(digest, digest)]


def test_the_comparison_decides(real_app, committed_editor_token, monkeypatch):
    """compare_digest is not merely called: a mismatch there refuses the token."""
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: False)
    real_app.get(WHOAMI, headers=bearer(committed_editor_token), status=401)


def test_create_token_stores_only_the_sha256_of_the_token(
    database_url, clean_database, real_app, monkeypatch, capsys
):
    """Through the real command, then through the API: the token is nowhere
    in the database, in any table, only its SHA-256 hex digest is."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    status = cli.main(
        ["create-token", TESTING_INI, "--role", "editor", "--name", "hashed-only"]
    )
    assert status == 0
    token = capsys.readouterr().out.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 bytes, base64url

    # Use it, so an idempotency record and a department exist too.
    real_app.post_json(
        DEPARTMENTS,
        {"name": "Hashed"},
        headers={**bearer(token), "Idempotency-Key": "hash-check"},
        status=201,
    )
    with clean_database.connect() as connection:
        row = (
            connection.execute(
                select(ApiToken.__table__).where(ApiToken.name == "hashed-only")
            )
            .mappings()
            .one()
        )
        assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        everything = [
            str(value)
            for table in Base.metadata.sorted_tables
            for stored in connection.execute(select(table))
            for value in stored
        ]
    assert everything
    assert not [value for value in everything if token in value]


def test_new_tokens_carry_256_random_bits():
    token = new_token()
    raw = token + "=" * (-len(token) % 4)
    assert len(base64.urlsafe_b64decode(raw)) == 32


# --- (b) no token in any log record ---------------------------------------------------


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    """DEBUG for every logger, none disabled, all reaching caplog's handler:
    whatever anything logs, at any level, is captured."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(lg, lg.level, lg.disabled, lg.propagate) for lg in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        logger.propagate = True
    caplog.set_level(logging.DEBUG)
    yield caplog
    for logger, level, disabled, propagate in saved:
        logger.setLevel(level)
        logger.disabled = disabled
        logger.propagate = propagate


def record_texts(record: logging.LogRecord) -> list[str]:
    """Everything of a record a handler could write: message, raw msg and
    args, the exception and the stack."""
    texts = [record.getMessage(), str(record.msg), repr(record.args)]
    if record.exc_info:
        texts.append(logging.Formatter().formatException(record.exc_info))
    texts += [record.exc_text or "", record.stack_info or ""]
    return texts


def exercise_every_token(app: webtest.TestApp, engine: Engine, token: str) -> list[str]:
    """Requests with the editor's ``token`` and a new reader's that succeed
    and that fail in every way, and wrong tokens refused, as Bearer and as
    Basic. Every token they sent."""
    with committed(engine) as connection:
        reader = store_token(connection, "reader")
    editor = bearer(token)
    app.get(WHOAMI, headers=editor, status=200)
    app.post_json(
        DEPARTMENTS,
        {"name": "Logged"},
        headers={**editor, "Idempotency-Key": "log-check"},
        status=201,
    )
    app.post_json(DEPARTMENTS, {"name": ""}, headers=editor, status=422)
    json_type = {"Content-Type": "application/json"}
    app.post(DEPARTMENTS, b"{", headers={**editor, **json_type}, status=400)
    app.post_json(
        f"{PROBE}/write-then-raise", {"name": "x"}, headers=editor, status=500
    )
    app.post(f"{PROBE}/busy", headers=editor, status=503)
    app.post_json(DEPARTMENTS, {"name": "Reader"}, headers=bearer(reader), status=403)
    app.get(f"{API}/employees?limit={'9' * 20}", headers=editor, status=422)
    wrong = [new_token(), token[:-1] + ("A" if token[-1] != "A" else "B"), token + "!"]
    for bad in wrong:
        app.get(WHOAMI, headers=bearer(bad), status=401)
        app.get(WHOAMI, headers={"Authorization": f"Basic {bad}"}, status=401)
    return [token, reader, *wrong]


def assert_never_logged(caplog: pytest.LogCaptureFixture, secrets_: list[str]) -> None:
    records = caplog.records
    # The capture works: the 500 logged its traceback, with a request id.
    assert any(r.levelno == logging.ERROR and r.exc_info for r in records)
    for record in records:
        for text in record_texts(record):
            for secret in secrets_:
                assert secret not in text, (record.name, record.levelname, text[:300])
    for secret in secrets_:
        assert secret not in caplog.text


def test_tokens_never_reach_a_log_record(
    real_app, committed_editor_token, clean_database, every_logger_at_debug
):
    """Every logger at DEBUG, SQLAlchemy's statement log included: the token
    itself is never written, whatever the request does or how it fails."""
    tokens = exercise_every_token(real_app, clean_database, committed_editor_token)
    # SQLAlchemy's statement log was on: queries were logged.
    records = every_logger_at_debug.records
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)
    assert_never_logged(every_logger_at_debug, tokens)


def test_token_hashes_never_reach_a_log_record_at_production_log_levels(
    real_app, committed_editor_token, clean_database, every_logger_at_debug
):
    """At DEBUG everywhere except sqlalchemy.engine at WARN, as in every ini
    file: no hash of a token (or of a wrong token) is logged either."""
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith("sqlalchemy.engine."):
            logging.getLogger(name).setLevel(logging.NOTSET)  # inherit, as in the ini
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARN)
    tokens = exercise_every_token(real_app, clean_database, committed_editor_token)
    hashes = [hash_token(t) for t in tokens]
    assert_never_logged(every_logger_at_debug, [*tokens, *hashes])


def test_token_hashes_never_reach_a_log_record_even_with_sql_logging(
    real_app, committed_editor_token, every_logger_at_debug
):
    """With statement logging on (sqlalchemy.engine at INFO, the switch the
    ini files document), bound values are hidden (hide_parameters). DEBUG
    would also log every result row, which is all data by design; see
    SECURITY.md. Only the app's own requests are logged here."""
    engine_loggers = {
        "sqlalchemy.engine",
        "sqlalchemy.engine.Engine",
    }  # made if missing
    engine_loggers |= {
        name
        for name in logging.root.manager.loggerDict
        if name.startswith("sqlalchemy.engine")
    }
    for name in engine_loggers:
        logging.getLogger(name).setLevel(logging.INFO)
    every_logger_at_debug.clear()
    real_app.get(WHOAMI, headers=bearer(committed_editor_token), status=200)
    real_app.post_json(
        f"{PROBE}/write-then-raise",
        {"name": "x"},
        headers=bearer(committed_editor_token),
        status=500,
    )
    assert_never_logged(every_logger_at_debug, [hash_token(committed_editor_token)])


# --- (c) no SQL built from strings ----------------------------------------------------

# Calls whose first argument is SQL text.
SQL_CALLS = frozenset(
    {"text", "exec_driver_sql", "execute", "executemany", "executescript"}
)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_str_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _addends(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _addends(node.left) + _addends(node.right)
    return [node]


def string_building(node: ast.expr) -> str | None:
    """How ``node`` builds a string at run time, or None if it does not."""
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mod)
        and (_is_str_literal(node.left) or isinstance(node.left, ast.JoinedStr))
    ):
        return "%-formatting"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    ):
        return "str.format()"
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Add)
        and not all(_is_str_literal(part) for part in _addends(node))
    ):
        return "+ concatenation with a non-literal"
    return None


def _assignments(scope: ast.AST, name: str) -> list[ast.expr]:
    """Values bound to ``name`` in ``scope``: ``x = ...``, ``x: T = ...``,
    and ``x += ...`` (reported as a concatenation)."""
    values: list[ast.expr] = []
    for node in ast.walk(scope):
        assigned = isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        )
        annotated = (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
            and node.value is not None
        )
        if assigned or annotated:
            values.append(node.value)
        elif (
            isinstance(node, ast.AugAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
            and isinstance(node.op, ast.Add | ast.Mod)
        ):
            values.append(ast.BinOp(left=node.target, op=node.op, right=node.value))
    return values


def sql_built_from_strings(source: str, filename: str = "<source>") -> list[str]:
    """Every call of text(), execute() and friends whose SQL is built from
    strings at run time: directly, or through a variable of the same scope.
    Literal SQL with bound parameters, and SQLAlchemy constructs, pass."""
    tree = ast.parse(source, filename)
    parents = {
        child: parent
        for parent in ast.walk(tree)
        for child in ast.iter_child_nodes(parent)
    }
    findings = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _called_name(node.func) not in SQL_CALLS:
            continue
        first = node.args[0] if node.args else None
        if first is None:
            first = next(
                (
                    k.value
                    for k in node.keywords
                    if k.arg in ("statement", "sql", "text")
                ),
                None,
            )
        if first is None:
            continue
        candidates = [first]
        if isinstance(first, ast.Name):
            scope = parents.get(node)
            while scope is not None and not isinstance(scope, SCOPES):
                scope = parents.get(scope)
            candidates += _assignments(scope or tree, first.id)
        for candidate in candidates:
            how = string_building(candidate)
            if how is not None:
                findings.append(
                    f"{filename}:{node.lineno}: {_called_name(node.func)}() with {how}"
                )
    return findings


@pytest.mark.parametrize(
    "source",
    [
        'session.execute(text(f"SELECT * FROM t WHERE id = {x}"))',
        "connection.exec_driver_sql(\"DELETE FROM t WHERE name = '%s'\" % name)",
        'cursor.execute("SELECT {} FROM t".format(column))',
        'cursor.executescript("DROP TABLE " + table)',
        'op.execute("UPDATE t SET a = " + str(n) + " WHERE 1")',
        'text("SELECT * FROM " + table)',
        'sql = f"SELECT {x}"\nsession.execute(text(sql))',
        'def f(x):\n    q: str = "SELECT * FROM t WHERE a=%s" % x\n    cur.execute(q)',
        'def f(x):\n    q = "SELECT * FROM t WHERE a="\n    q += x\n    cur.execute(q)',
        'session.execute(statement=text(f"SELECT {x}"))',
        'cursor.executemany("INSERT INTO " + t + " VALUES (?)", rows)',
    ],
)
def test_the_checker_finds_sql_built_from_strings(source):
    assert sql_built_from_strings(source), source


@pytest.mark.parametrize(
    "source",
    [
        'session.execute(text("SELECT 1"))',
        'session.execute(text("SELECT a " "FROM t"))',
        'session.execute(text("SELECT " + "1"))',
        'text("SELECT * FROM t WHERE id = :id").bindparams(id=x)',
        "session.execute(select(T).where(T.id == x))",
        'session.execute(statement, {"name": f"{x}"})',
        'connection.exec_driver_sql("SELECT ?", (x,))',
        "mapped_column(text(100))",
        'def f():\n    q = "SELECT 1"\n    cur.execute(q)',
        'def f(x):\n    q = f"{x}"\ndef g():\n    q = "SELECT 1"\n    cur.execute(q)',
    ],
)
def test_the_checker_lets_literal_and_parameterised_sql_pass(source):
    assert sql_built_from_strings(source) == [], source


def test_no_sql_is_built_from_strings_anywhere_in_the_package():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30
    assert PACKAGE / "alembic" / "env.py" in files
    findings = [
        finding
        for path in files
        for finding in sql_built_from_strings(
            path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))
        )
    ]
    assert findings == []


# --- (d) security headers on every kind of response -----------------------------------

STATIC = f"{API}/docs/static"


def make_response(case: str, app: webtest.TestApp, editor: dict, reader: dict) -> Any:
    json_type = {"Content-Type": "application/json"}
    if case == "healthz":
        return app.get("/healthz")
    if case == "readyz":
        return app.get("/readyz")
    if case == "list-200":
        return app.get(f"{API}/employees", headers=editor)
    if case == "head-200":
        return app.head(f"{API}/employees", headers=editor)
    if case == "csv-200":
        return app.get(f"{API}/employees.csv", headers=editor)
    if case in ("created-201", "deleted-204", "not-modified-304", "precondition-412"):
        created = app.post_json(DEPARTMENTS, {"name": "Headers"}, headers=editor)
        item = f"{DEPARTMENTS}/{created.json['id']}"
        if case == "created-201":
            return created
        if case == "deleted-204":
            return app.delete(item, headers=editor, status=204)
        if case == "not-modified-304":
            tag = created.headers["ETag"]
            return app.get(item, headers={**editor, "If-None-Match": tag}, status=304)
        return app.delete(item, headers={**editor, "If-Match": '"7"'}, status=412)
    if case == "bad-json-400":
        return app.post(DEPARTMENTS, b"{", headers={**editor, **json_type}, status=400)
    if case == "bad-url-400":
        return app.get(f"{API}/%ff", status=400)
    if case == "no-token-401":
        return app.get(f"{API}/employees", status=401)
    if case == "reader-writes-403":
        return app.post_json(DEPARTMENTS, {"name": "R"}, headers=reader, status=403)
    if case == "unknown-route-404":
        return app.get(f"{API}/nothing-here", status=404)
    if case == "method-405":
        return app.delete(f"{API}/employees", headers=editor, status=405)
    if case == "too-large-413":
        limit = int(app.app.registry.settings["api.max_body_bytes"])
        body = b" " * (limit + 1)
        return app.post(DEPARTMENTS, body, headers={**editor, **json_type}, status=413)
    if case == "media-type-415":
        return app.post(
            DEPARTMENTS,
            b"{}",
            headers={**editor, "Content-Type": "text/plain"},
            status=415,
        )
    if case == "invalid-422":
        return app.post_json(DEPARTMENTS, {"name": ""}, headers=editor, status=422)
    if case == "server-error-500":
        return app.post_json(
            f"{PROBE}/write-then-raise", {"name": "x"}, headers=editor, status=500
        )
    if case == "busy-503":
        return app.post(f"{PROBE}/busy", headers=editor, status=503)
    if case == "openapi-json":
        return app.get(f"{API}/openapi.json")
    if case == "docs-page":
        return app.get(f"{API}/docs")
    if case == "static-css":
        return app.get(f"{STATIC}/swagger-ui.css")
    if case == "static-js":
        return app.get(f"{STATIC}/swagger-ui-bundle.js")
    if case == "static-missing-404":
        return app.get(f"{STATIC}/no-such-file.js", status=404)
    raise AssertionError(case)


CASES = [
    "healthz",
    "readyz",
    "list-200",
    "head-200",
    "csv-200",
    "created-201",
    "deleted-204",
    "not-modified-304",
    "bad-json-400",
    "bad-url-400",
    "no-token-401",
    "reader-writes-403",
    "unknown-route-404",
    "method-405",
    "precondition-412",
    "too-large-413",
    "media-type-415",
    "invalid-422",
    "server-error-500",
    "busy-503",
    "openapi-json",
    "docs-page",
    "static-css",
    "static-js",
    "static-missing-404",
]


@pytest.mark.parametrize("case", CASES)
def test_every_response_carries_the_security_headers(
    testapp, editor_token, reader_token, case
):
    response = make_response(case, testapp, bearer(editor_token), bearer(reader_token))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]
    cache_control = response.headers["Cache-Control"]
    if case in ("static-css", "static-js"):
        assert re.fullmatch(r"max-age=\d+", cache_control), cache_control
    else:
        assert cache_control == "no-store"
    if response.status_int >= 400:
        assert response.content_type == "application/problem+json"


# --- (e) limits, and production.ini ---------------------------------------------------


class UnreadableBody(io.RawIOBase):
    """A request body that must never be read."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise AssertionError("the oversize body was read")


@pytest.fixture
def statements(app) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the test runs."""
    sent: list[str] = []
    engine = app.registry["db.engine"]

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    "authorization", ["none", "garbage", "unknown-token", "reader-token"]
)
def test_a_declared_oversize_body_is_a_413_before_authentication(
    real_app, committed_editor_token, clean_database, statements, authorization
):
    """413, not 401 or 403: no byte of the body is read and no query runs
    (the token lookup is a query)."""
    with committed(clean_database) as connection:
        reader = store_token(connection, "reader")
    real_app.get(WHOAMI, headers=bearer(committed_editor_token))
    assert statements, "the statement recorder sees the app's queries"
    statements.clear()

    headers = {
        "none": {},
        "garbage": {"Authorization": "Bearer ../../etc/passwd"},
        "unknown-token": bearer(new_token()),
        "reader-token": bearer(reader),
    }[authorization]
    limit = int(real_app.app.registry.settings["api.max_body_bytes"])
    request = Request.blank(
        DEPARTMENTS,
        method="POST",
        headers={**headers, "Content-Type": "application/json"},
    )
    request.environ["CONTENT_LENGTH"] = str(limit + 1)
    request.environ["wsgi.input"] = UnreadableBody()
    request.environ["HTTP_HOST"] = "example.com"
    response = real_app.do_request(request, expect_errors=True)

    assert response.status_int == 413
    assert response.content_type == "application/problem+json"
    assert response.json["request_id"] == response.headers["X-Request-ID"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "WWW-Authenticate" not in response.headers
    assert statements == []


def test_the_limit_is_api_max_body_bytes(app_settings):
    small = webtest.TestApp(
        make_app(app_settings, **{"api.max_body_bytes": "64"}),
        extra_environ={"HTTP_HOST": "example.com"},
    )
    response = small.post(
        DEPARTMENTS,
        b"x" * 65,
        headers={"Content-Type": "application/json"},
        status=413,
    )
    assert response.json["detail"] == "the body exceeds 64 bytes"


@pytest.fixture(scope="module")
def production() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    assert parser.read(PRODUCTION_INI) == [str(PRODUCTION_INI)]
    return parser


@pytest.fixture(scope="module")
def waitress_settings(production) -> Adjustments:
    """The [server:main] values as waitress itself parses them."""
    server = production["server:main"]
    known = {name for name, _ in Adjustments._params}
    return Adjustments(**{k: v for k, v in server.items() if k in known})


def test_production_ini_bounds_bodies_and_connections(production, waitress_settings):
    server = production["server:main"]
    app_limit = int(production["app:main"]["api.max_body_bytes"])
    assert "max_request_body_size" in server
    assert app_limit <= waitress_settings.max_request_body_size <= 16 * 1024 * 1024
    assert "connection_limit" in server
    assert 0 < waitress_settings.connection_limit <= 1000
    assert "channel_timeout" in server
    assert 0 < waitress_settings.channel_timeout <= 300


def test_production_ini_bounds_request_headers(production, waitress_settings):
    assert "max_request_header_size" in production["server:main"]
    assert 0 < waitress_settings.max_request_header_size <= 64 * 1024


def test_production_ini_shows_no_tracebacks_and_trusts_only_the_local_proxy(
    production, waitress_settings
):
    server = production["server:main"]
    assert "expose_tracebacks" in server
    assert waitress_settings.expose_tracebacks is False
    assert aslist(server["listen"]) == ["127.0.0.1:6543"]
    assert waitress_settings.trusted_proxy == "127.0.0.1"
    assert waitress_settings.clear_untrusted_proxy_headers is True
    assert waitress_settings.trusted_proxy_headers == {
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
    }


def test_production_ini_has_no_debug_toolbar_or_debug_switches(production):
    for section in production.sections():
        for key, value in production[section].items():
            assert "debugtoolbar" not in value.lower(), (section, key)
            if key.startswith(("pyramid.debug_", "pyramid.reload_", "debug")):
                assert not asbool(value), (section, key)
    app = production["app:main"]
    assert "pyramid_debugtoolbar" not in app.get("pyramid.includes", "")
    assert aslist(app.get("cors.allow_origins", "")) == []


def test_production_ini_logs_to_stderr_and_keeps_sql_out_of_the_log(production):
    handlers = aslist(production["handlers"]["keys"], flatten=False)
    handlers = [h.strip() for h in ",".join(handlers).split(",") if h.strip()]
    assert handlers
    for name in handlers:
        handler = production[f"handler_{name}"]
        assert handler["class"] in ("StreamHandler", "logging.StreamHandler")
        assert handler["args"].replace(" ", "") == "(sys.stderr,)"
    loggers = [k.strip() for k in production["loggers"]["keys"].split(",")]
    for name in loggers:
        section = production[f"logger_{name}"]
        used = [h.strip() for h in section.get("handlers", "").split(",") if h.strip()]
        assert set(used) <= set(handlers), name
    assert production["logger_root"]["handlers"].strip() in handlers
    # Bound parameters (token hashes among them) are logged from INFO down.
    sql = next(
        production[f"logger_{name}"]
        for name in loggers
        if production[f"logger_{name}"].get("qualname") == "sqlalchemy.engine"
    )
    assert sql["level"].upper() in ("WARN", "WARNING", "ERROR", "CRITICAL")


def test_tokens_come_from_the_secrets_module():
    """The CSPRNG, never ``random``."""
    tree = ast.parse((PACKAGE / "tokens.py").read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert "secrets" in imported
    assert "random" not in imported
