"""Lost races are replayed by pyramid_retry; when retries run out, 503.

The concurrent tests run two real requests in two threads against the same
row. Both read it in the same snapshot before either writes, so one must
lose: on PostgreSQL (REPEATABLE READ) its UPDATE fails with a serialization
failure; on MariaDB its versioned UPDATE finds the version already moved.
"""

import logging
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import webtest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import OperationalError

from company_service.db import dispose_engines, is_transient
from company_service.models import Department, Employee
from company_service.testing import bearer, count_rows, make_app
from tests.support.factories import EmployeeFactory, committed_rows

PROBE = "/api/v1/_probe"


def needs(*dialects: str):
    def check(engine):
        if engine.dialect.name not in dialects:
            pytest.skip(f"needs {' or '.join(dialects)}")

    return check


@pytest.fixture
def counter_employee(clean_database) -> int:
    with committed_rows(clean_database):
        return EmployeeFactory(salary=Decimal(0)).id


def race(app, token: str, employee_id: int) -> dict[str, webtest.TestResponse]:
    """Two increments that both read before either writes.

    Each run's marker names are new: on MariaDB, re-inserting a unique key
    that an earlier test deleted (still delete-marked in the index) takes a
    next-key lock that would block the rival's insert before the barrier.
    """
    run = uuid.uuid4().hex[:8]
    app.registry["probe.barrier"] = threading.Barrier(2)

    def increment(marker: str) -> webtest.TestResponse:
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
        return client.post(
            f"{PROBE}/employees/{employee_id}/increment",
            headers={**bearer(token), "X-Probe-Marker": marker},
            expect_errors=True,
        )

    try:
        with ThreadPoolExecutor(2) as pool:
            futures = {m: pool.submit(increment, f"{m}-{run}") for m in ("A", "B")}
            return {
                marker: future.result(timeout=30) for marker, future in futures.items()
            }
    finally:
        del app.registry["probe.barrier"]


def salary_cents(engine, employee_id: int) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            select(Employee.salary_cents).where(Employee.id == employee_id)
        )


def department_names(engine) -> set[str]:
    """Marker names without the run id: "A-attempt-0" and the like."""
    with engine.connect() as connection:
        names = connection.scalars(select(Department.name))
        return {f"{n.split('-')[0]}-{'-'.join(n.split('-')[2:])}" for n in names}


def test_the_loser_of_a_real_conflict_is_retried_and_succeeds(
    app, engine, committed_editor_token, counter_employee
):
    needs("postgresql", "mysql", "mariadb")(engine)
    answers = race(app, committed_editor_token, counter_employee)

    assert {r.status_int for r in answers.values()} == {200}
    attempts = sorted(r.json["attempt"] for r in answers.values())
    assert attempts == [0, 1], "exactly one request needed a second attempt"
    assert salary_cents(engine, counter_employee) == 2, "no update was lost"
    loser = next(m for m, r in answers.items() if r.json["attempt"] == 1)
    winner = "A" if loser == "B" else "B"
    # The loser's first attempt wrote a row before failing: it is gone.
    assert department_names(engine) == {f"{winner}-attempt-0", f"{loser}-attempt-1"}


def test_when_retries_run_out_the_client_gets_503_and_nothing_partial(
    app_settings, engine, committed_editor_token, counter_employee
):
    needs("postgresql", "mysql", "mariadb")(engine)
    no_retries = make_app(app_settings, **{"retry.attempts": "1"})
    try:
        answers = race(no_retries, committed_editor_token, counter_employee)
    finally:
        dispose_engines(no_retries.registry)

    statuses = sorted(r.status_int for r in answers.values())
    assert statuses == [200, 503]
    loser = next(m for m, r in answers.items() if r.status_int == 503)
    response = answers[loser]
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert salary_cents(engine, counter_employee) == 1
    assert f"{loser}-attempt-0" not in department_names(engine)


def test_a_transient_error_on_every_attempt_ends_in_503_after_all_attempts(
    app, real_app, committed_editor_token, caplog
):
    app.registry["probe.busy_attempts"] = []
    with caplog.at_level(logging.WARNING, logger="company_service"):
        response = real_app.post(
            f"{PROBE}/busy", headers=bearer(committed_editor_token), status=503
        )
    assert app.registry["probe.busy_attempts"] == [0, 1, 2]
    assert response.headers["Retry-After"] == "1"
    assert response.json["status"] == 503
    assert sum("transient database error" in r.message for r in caplog.records) == 3


# --- SQLite: a writer that finds the write lock taken ------------------------


@pytest.fixture
def sqlite_lock(engine):
    needs("sqlite")(engine)
    holder = sqlite3.connect(
        engine.url.database, isolation_level=None, check_same_thread=False
    )
    yield holder
    holder.close()


def test_sqlite_a_blocked_writer_waits_for_the_lock_and_succeeds(
    real_app, committed_editor_token, sqlite_lock, engine
):
    sqlite_lock.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, sqlite_lock.execute, ("ROLLBACK",))
    release.start()
    response = real_app.post_json(
        f"{PROBE}/departments",
        {"name": "Patient"},
        headers=bearer(committed_editor_token),
    )
    release.join()
    assert response.status_int == 201
    assert count_rows(engine, Department, Department.name == "Patient") == 1


def test_sqlite_a_writer_locked_out_throughout_gets_503_not_500(
    app_settings, committed_editor_token, sqlite_lock, engine, caplog
):
    impatient = make_app(app_settings, **{"db.sqlite_busy_timeout_ms": "100"})
    client = webtest.TestApp(impatient, extra_environ={"HTTP_HOST": "example.com"})
    sqlite_lock.execute("BEGIN IMMEDIATE")
    try:
        with caplog.at_level(logging.WARNING, logger="company_service"):
            response = client.post_json(
                f"{PROBE}/departments",
                {"name": "Locked out"},
                headers=bearer(committed_editor_token),
                status=503,
            )
    finally:
        sqlite_lock.execute("ROLLBACK")
        dispose_engines(impatient.registry)
    assert response.headers["Retry-After"] == "1"
    assert sum("transient database error" in r.message for r in caplog.records) == 3
    assert count_rows(engine, Department) == 0


def test_a_real_mariadb_lock_wait_timeout_is_retried(engine):
    """Made by the server itself, so the driver's real error shape is tested."""
    needs("mysql", "mariadb")(engine)
    lock_wait = Department.name == "lock-wait"
    with engine.connect() as holder, engine.connect() as waiter:
        # Uncommitted: the holder keeps the row locked.
        holder.execute(insert(Department).values(name="lock-wait"))
        waiter.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 1")
        with pytest.raises(OperationalError) as caught:
            waiter.execute(update(Department).where(lock_wait).values(version=2))
        holder.rollback()
    assert caught.value.orig.args[0] == 1205
    assert is_transient(caught.value)


def test_each_replay_waits_a_random_while_that_doubles(
    app, real_app, committed_editor_token, monkeypatch
):
    """The first attempt starts at once; replay k waits up to
    retry.backoff_ms * 2^(k-1) (db.back_off_tween_factory)."""
    waits, limits = [], []
    monkeypatch.setattr("company_service.db.time.sleep", waits.append)
    monkeypatch.setattr(
        "company_service.db.random.uniform",
        lambda low, high: limits.append(high) or high,
    )
    app.registry["probe.busy_attempts"] = []
    real_app.post(f"{PROBE}/busy", headers=bearer(committed_editor_token), status=503)
    base = float(app.registry.settings["retry.backoff_ms"]) / 1000
    assert limits == [base, 2 * base]
    assert waits == limits
