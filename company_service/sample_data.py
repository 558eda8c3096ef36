"""Sample departments and employees for development: deterministic, idempotent.

The same run always produces the same rows, keyed by department name and
email, so a second run finds them all and adds nothing.
"""

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Department, Employee, name_key

SEED = 20261124
EMPLOYEE_COUNT = 200
DEPARTMENTS = (
    ("Executive", "Runs the company."),
    ("Engineering", "Builds and runs the product."),
    ("Product", "Decides what gets built."),
    ("Sales", "Finds the customers."),
    ("Marketing", "Tells the world."),
    ("Finance", "Keeps the books."),
    ("People", "Hires and looks after everyone."),
    ("Support", "Answers the customers."),
)
FIRST_NAMES = (
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Margaret",
    "Dennis",
    "Radia",
    "Linus",
    "Zoë",
    "José",
    "Łukasz",
    "Søren",
    "Chloé",
    "Anaïs",
    "Jürgen",
    "Ngọc",
    "Hiroshi",
    "Aiko",
    "Olúwaseun",
    "Priya",
    "Dmitri",
    "Ана",
    "Σοφία",
    "Mei",
    "Yusuf",
    "Inés",
)
LAST_NAMES = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Hamilton",
    "Ritchie",
    "Perlman",
    "Torvalds",
    "Müller",
    "García",
    "Kowalski",
    "Ødegaard",
    "Dubois",
    "Nguyễn",
    "Tanaka",
    "Sato",
    "Adeyemi",
    "Sharma",
    "Ivanov",
    "Петрова",
    "Παπαδοπούλου",
    "Chen",
    "Yılmaz",
    "O'Neil",
    "van der Berg",
    "Núñez",
)
TITLES = {
    0: "Chief Executive Officer",
    1: "Head of {dept}",
    2: "Manager",
    3: "Team Lead",
}


@dataclass(frozen=True)
class SampleEmployee:
    index: int
    first_name: str
    last_name: str
    title: str
    department: str
    manager_index: int | None
    hire_date: date
    salary: Decimal
    active: bool

    @property
    def email(self) -> str:
        first, last = ascii_slug(self.first_name), ascii_slug(self.last_name)
        return f"{first}.{last}.{self.index}@example.com"


def ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    letters = [c for c in decomposed.lower() if c.isascii() and c.isalnum()]
    return "".join(letters) or "employee"


def plan() -> list[SampleEmployee]:
    """A CEO, a head per department, managers, team leads, then individual
    contributors: a tree five levels deep, managers always before reports."""
    rng = random.Random(SEED)
    people: list[SampleEmployee] = []
    levels: dict[str, list[list[int]]] = {
        name: [[], [], [], []] for name, _ in DEPARTMENTS
    }

    def add(department: str, level: int, manager: int | None) -> int:
        index = len(people)
        base = (250_000, 180_000, 130_000, 105_000, 80_000)[level]
        people.append(
            SampleEmployee(
                index=index,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                title=TITLES.get(level, "Specialist").format(dept=department),
                department=department,
                manager_index=manager,
                hire_date=date(2015, 1, 5) + timedelta(days=rng.randrange(0, 3900)),
                salary=Decimal(base + rng.randrange(0, 40_000_00) / 100).quantize(
                    Decimal("0.01")
                ),
                active=rng.random() > 0.05 or level < 3,
            )
        )
        if level < 4:
            levels[department][level].append(index)
        return index

    ceo = add("Executive", 0, None)
    for department, _ in DEPARTMENTS:
        add(department, 1, ceo)
    for level in (2, 3):
        for department, _ in DEPARTMENTS:
            for _ in range(level):  # two managers, three leads per department
                add(department, level, rng.choice(levels[department][level - 1]))
    while len(people) < EMPLOYEE_COUNT:
        department = rng.choice(DEPARTMENTS)[0]
        leads = levels[department][3] or levels[department][1]
        add(department, 4, rng.choice(leads))
    return people


def load(session: Session) -> tuple[int, int]:
    """Add whatever sample rows are missing; return (departments, employees) added."""
    existing_departments = {
        key: id_
        for key, id_ in session.execute(select(Department.name_key, Department.id))
    }
    department_ids: dict[str, int] = {}
    added_departments = 0
    for name, description in DEPARTMENTS:
        department_id = existing_departments.get(name_key(name))
        if department_id is None:
            department = Department(name=name, description=description)
            session.add(department)
            session.flush()
            department_id, added_departments = department.id, added_departments + 1
        department_ids[name] = department_id

    people = plan()
    existing = {
        email: id_
        for email, id_ in session.execute(
            select(Employee.email, Employee.id).where(
                Employee.email.in_([p.email for p in people])
            )
        )
    }
    ids: dict[int, int] = {}
    added_employees = 0
    for person in people:  # managers come first, so their ids are known
        employee_id = existing.get(person.email)
        if employee_id is None:
            employee = Employee(
                first_name=person.first_name,
                last_name=person.last_name,
                email=person.email,
                title=person.title,
                hire_date=person.hire_date,
                department_id=department_ids[person.department],
                manager_id=None
                if person.manager_index is None
                else ids[person.manager_index],
                salary=person.salary,
                active=person.active,
            )
            session.add(employee)
            session.flush()
            employee_id, added_employees = employee.id, added_employees + 1
        ids[person.index] = employee_id
    return added_departments, added_employees
