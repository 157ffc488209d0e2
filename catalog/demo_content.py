"""Teaching content of the demo world loaded by `manage.py seed_demo`.

Plain data, no Django: skills, courses (modules, lessons with Markdown bodies,
prerequisites by key), one quiz per course and a diagnostic across all skills.
Question dicts: kind, prompt, skill, difficulty, explanation and, by kind,
``choices`` [(text, is_correct)], ``answer`` + ``tolerance`` (numeric) or
``accepted`` (short text).
"""

from __future__ import annotations

from typing import Any

SKILLS: list[tuple[str, str, str]] = [
    ("python", "Python", "Core Python: syntax, functions, modules and the standard library."),
    ("data_structures", "Data structures", "Lists, dicts, sets, tuples and their costs."),
    ("git", "Git", "Version control: commits, branches, merging and collaboration."),
    ("testing", "Testing", "Automated tests with pytest: fixtures, assertions, coverage."),
    ("sql", "SQL", "Querying relational data: SELECT, JOIN, GROUP BY, indexes."),
    ("postgresql", "PostgreSQL", "PostgreSQL specifics: types, JSONB, EXPLAIN, transactions."),
    ("html_css", "HTML & CSS", "Semantic markup and layout with modern CSS."),
    ("javascript", "JavaScript", "The language of the browser: values, functions, the DOM."),
    ("flask", "Flask", "Building web applications with the Flask micro-framework."),
    ("rest_api", "REST APIs", "Designing resource-oriented HTTP APIs with JSON."),
    ("async_programming", "Async programming", "Concurrency with asyncio, async/await."),
    ("docker", "Docker", "Containers: images, Dockerfiles, volumes and compose."),
]


def tf(correct: bool) -> list[tuple[str, bool]]:
    """Choices of a true/false question."""
    return [("True", correct), ("False", not correct)]


COURSES: list[dict[str, Any]] = [
    {
        "slug": "python-fundamentals",
        "title": "Python Fundamentals",
        "description": "Start programming in Python: values and names, control flow, "
        "functions, and the built-in data structures you will use every day.",
        "difficulty": "beginner",
        "estimated_hours": 12,
        "skills": ["python", "data_structures"],
        "prerequisites": [],
        "modules": [
            {
                "title": "First steps",
                "lessons": [
                    {
                        "key": "py-values",
                        "title": "Values, names and types",
                        "content_type": "text",
                        "minutes": 20,
                        "skills": ["python"],
                        "body": """\
## Everything is an object

In Python a **name** points at a **value**; the value has a type, the name does not.

```python
age = 36          # int
price = 4.5       # float
title = "Dune"    # str
age = "thirty-six"  # the same name now points at a str
```

Use `type(value)` to ask what something is, and `isinstance(value, int)` in code.

### Numbers and text

- `7 // 2` is `3` (floor division), `7 / 2` is `3.5`, `7 % 2` is `1`.
- Strings are immutable: `title.upper()` returns a *new* string.
- f-strings format values: `f"{title} costs {price:.2f}"`.

**Try it:** open a REPL (`python3`) and predict the result of `0.1 + 0.2 == 0.3`
before you run it. (Floating point is binary: use `math.isclose`.)
""",
                    },
                    {
                        "key": "py-control-flow",
                        "title": "Conditions and loops",
                        "content_type": "video",
                        "minutes": 25,
                        "skills": ["python"],
                        "prerequisites": ["py-values"],
                        "video_url": "https://videos.skillstudio.test/python/control-flow.mp4",
                        "body": """\
## Making decisions

```python
if temperature > 30:
    advice = "stay inside"
elif temperature > 15:
    advice = "go for a walk"
else:
    advice = "take a coat"
```

Indentation *is* the block: four spaces, no braces.

## Repeating work

`for` walks over any iterable; `range(n)` yields `0 … n-1`:

```python
total = 0
for n in range(1, 11):
    if n % 2:
        continue  # skip odd numbers
    total += n
print(total)  # 30
```

Use `while` only when you do not know the number of steps in advance, and
make sure something in the loop moves you toward the exit.
""",
                    },
                ],
            },
            {
                "title": "Functions and collections",
                "lessons": [
                    {
                        "key": "py-functions",
                        "title": "Writing functions",
                        "content_type": "text",
                        "minutes": 30,
                        "skills": ["python"],
                        "prerequisites": ["py-control-flow"],
                        "body": """\
## Name a piece of work

```python
def average(numbers: list[float]) -> float:
    \"\"\"Arithmetic mean of a non-empty list.\"\"\"
    return sum(numbers) / len(numbers)
```

- Parameters can have defaults: `def greet(name, greeting="Hello")`.
- Keyword-only parameters follow a `*`: `def connect(*, host, port=5432)`;
  callers must write `connect(host="db")`, which keeps calls readable.
- **Never** use a mutable default (`def add(item, bucket=[])`): the list is
  created once and shared by every call. Use `None` and create it inside.

A function without `return` returns `None`.
""",
                    },
                    {
                        "key": "py-collections",
                        "title": "Lists, dicts, sets and tuples",
                        "content_type": "exercise",
                        "minutes": 40,
                        "difficulty": "intermediate",
                        "skills": ["python", "data_structures"],
                        "prerequisites": ["py-functions"],
                        "body": """\
## Pick the structure by the question you ask

| structure | good at | lookup cost |
| --- | --- | --- |
| `list` | ordered items, appending | `x in items` is O(n) |
| `dict` | key → value | O(1) on average |
| `set` | membership, removing duplicates | O(1) on average |
| `tuple` | fixed records, dict keys | O(n) |

```python
words = "the cat saw the other cat".split()
counts: dict[str, int] = {}
for word in words:
    counts[word] = counts.get(word, 0) + 1
# {'the': 2, 'cat': 2, 'saw': 1, 'other': 1}
unique = set(words)  # 4 distinct words
```

**Exercise:** write `first_repeat(items)` that returns the first item seen
twice, or `None`. Make it O(n) by remembering what you have seen in a set.
""",
                    },
                ],
            },
        ],
        "quiz": {
            "title": "Python Fundamentals quiz",
            "passing_score": 60,
            "questions": [
                {
                    "kind": "single_choice",
                    "prompt": "What does `7 // 2` evaluate to in Python 3?",
                    "skill": "python",
                    "choices": [("3", True), ("3.5", False), ("4", False), ("1", False)],
                    "explanation": "`//` is floor division: it rounds down to 3.",
                },
                {
                    "kind": "true_false",
                    "prompt": "A default argument like `bucket=[]` is created anew on every call.",
                    "skill": "python",
                    "choices": tf(False),
                    "explanation": "Defaults are evaluated once, when the function is defined, "
                    "so the same list is shared by every call.",
                },
                {
                    "kind": "multiple_choice",
                    "prompt": "Which structures give O(1) average-time membership tests?",
                    "skill": "data_structures",
                    "difficulty": "intermediate",
                    "choices": [("set", True), ("dict", True), ("list", False), ("tuple", False)],
                    "explanation": "Sets and dicts are hash tables; lists and tuples are scanned.",
                },
                {
                    "kind": "numeric",
                    "prompt": "What is `sum(n for n in range(1, 11) if n % 2 == 0)`?",
                    "skill": "python",
                    "answer": "30",
                    "tolerance": "0",
                    "explanation": "2 + 4 + 6 + 8 + 10 = 30.",
                },
                {
                    "kind": "short_text",
                    "prompt": "Which built-in function returns the number of items in a list?",
                    "skill": "python",
                    "accepted": ["len", "len()"],
                    "explanation": "`len(items)` works on any sized container.",
                },
            ],
        },
    },
    {
        "slug": "git-and-testing",
        "title": "Git and Testing Essentials",
        "description": "Work like a professional: keep history in Git, collaborate through "
        "branches, and prove your code works with pytest.",
        "difficulty": "beginner",
        "estimated_hours": 8,
        "skills": ["git", "testing"],
        "prerequisites": ["python-fundamentals"],
        "modules": [
            {
                "title": "Version control with Git",
                "lessons": [
                    {
                        "key": "git-basics",
                        "title": "Commits and history",
                        "content_type": "text",
                        "minutes": 25,
                        "skills": ["git"],
                        "body": """\
## Snapshots, not diffs

A commit records the whole project at one moment, plus a message and a parent.

```bash
git init                 # start a repository
git add app.py           # stage a change
git commit -m "Add greeting"
git log --oneline        # one line per commit
```

The **staging area** lets you commit part of your work: `git add -p` asks hunk
by hunk. Write messages that say *why*: "Cache course list: the home page made
40 queries" beats "fix".
""",
                    },
                    {
                        "key": "git-branches",
                        "title": "Branches and merging",
                        "content_type": "video",
                        "minutes": 30,
                        "difficulty": "intermediate",
                        "skills": ["git"],
                        "prerequisites": ["git-basics"],
                        "video_url": "https://videos.skillstudio.test/git/branches.mp4",
                        "body": """\
## A branch is a movable label

```bash
git switch -c feature/search   # create and switch
# ...commit...
git switch main
git merge feature/search
```

When both sides changed the same lines Git stops with a **conflict**: edit the
file, keep the right lines, remove the `<<<<<<<` markers, `git add` it and
finish with `git commit`.

Rebase (`git rebase main`) replays your commits on top of `main` for a linear
history; never rebase commits others already pulled.
""",
                    },
                ],
            },
            {
                "title": "Testing with pytest",
                "lessons": [
                    {
                        "key": "pytest-first",
                        "title": "Your first tests",
                        "content_type": "text",
                        "minutes": 25,
                        "skills": ["testing", "python"],
                        "body": """\
## A test is a function that asserts

```python
# test_prices.py
from prices import with_vat

def test_vat_is_added():
    assert with_vat(100) == 120

def test_zero_stays_zero():
    assert with_vat(0) == 0
```

Run `pytest -q`. pytest finds `test_*.py` files and `test_*` functions, and
rewrites `assert` so a failure shows both sides.

Good tests check behaviour a user would notice, with expectations you worked
out by hand, and fail when the code is wrong.
""",
                    },
                    {
                        "key": "pytest-fixtures",
                        "title": "Fixtures and parametrize",
                        "content_type": "exercise",
                        "minutes": 35,
                        "difficulty": "intermediate",
                        "skills": ["testing"],
                        "prerequisites": ["pytest-first"],
                        "body": """\
## Share setup with fixtures

```python
import pytest

@pytest.fixture
def cart():
    return Cart(items=[Item("book", 12), Item("pen", 2)])

def test_total(cart):
    assert cart.total() == 14
```

## One test, many cases

```python
@pytest.mark.parametrize(("amount", "expected"), [(0, 0), (100, 120), (5, 6)])
def test_with_vat(amount, expected):
    assert with_vat(amount) == expected
```

**Exercise:** add a case for negative amounts and decide, in the test, what
the function should do (raise `ValueError`: use `pytest.raises`).
""",
                    },
                ],
            },
        ],
        "quiz": {
            "title": "Git and Testing quiz",
            "passing_score": 60,
            "questions": [
                {
                    "kind": "short_text",
                    "prompt": "Which Git command creates a new, empty repository?",
                    "skill": "git",
                    "accepted": ["git init"],
                    "explanation": "`git init` creates the hidden .git folder.",
                },
                {
                    "kind": "single_choice",
                    "prompt": "Both branches changed the same line. What does `git merge` do?",
                    "skill": "git",
                    "difficulty": "intermediate",
                    "choices": [
                        ("Stops with a conflict for you to resolve", True),
                        ("Keeps the newest change", False),
                        ("Keeps the change on main", False),
                    ],
                    "explanation": "Git cannot know which line is right, so it asks you.",
                },
                {
                    "kind": "true_false",
                    "prompt": "pytest collects functions whose names start with `test_`.",
                    "skill": "testing",
                    "choices": tf(True),
                    "explanation": "By default pytest collects `test_*` functions in "
                    "`test_*.py` files.",
                },
                {
                    "kind": "multiple_choice",
                    "prompt": "Which of these are pytest features?",
                    "skill": "testing",
                    "choices": [
                        ("Fixtures", True),
                        ("@pytest.mark.parametrize", True),
                        ("pytest.raises", True),
                        ("git bisect", False),
                    ],
                    "explanation": "`git bisect` is Git's binary search for a bad commit.",
                },
            ],
        },
    },
    {
        "slug": "sql-and-postgresql",
        "title": "SQL and PostgreSQL",
        "description": "Ask questions of data with SQL, then use PostgreSQL's strengths: "
        "JSONB, indexes you can reason about, and safe transactions.",
        "difficulty": "beginner",
        "estimated_hours": 14,
        "skills": ["sql", "postgresql"],
        "prerequisites": [],
        "modules": [
            {
                "title": "Querying",
                "lessons": [
                    {
                        "key": "sql-select",
                        "title": "SELECT, WHERE and ORDER BY",
                        "content_type": "text",
                        "minutes": 25,
                        "skills": ["sql"],
                        "body": """\
## Ask for rows

```sql
SELECT title, estimated_hours
FROM course
WHERE status = 'published' AND estimated_hours <= 10
ORDER BY estimated_hours DESC, title
LIMIT 5;
```

- `WHERE` filters rows before anything else happens.
- `NULL` is not equal to anything, not even `NULL`: use `IS NULL`.
- `ORDER BY` is the only way to get a guaranteed order.
""",
                    },
                    {
                        "key": "sql-joins",
                        "title": "Joins and aggregates",
                        "content_type": "exercise",
                        "minutes": 35,
                        "difficulty": "intermediate",
                        "skills": ["sql"],
                        "prerequisites": ["sql-select"],
                        "body": """\
## Combine tables

```sql
SELECT c.title, count(e.id) AS learners
FROM course c
LEFT JOIN enrollment e ON e.course_id = c.id
GROUP BY c.id, c.title
HAVING count(e.id) >= 10
ORDER BY learners DESC;
```

- `INNER JOIN` keeps matching pairs only; `LEFT JOIN` keeps every course,
  with `NULL`s where no enrollment matches (so `count(e.id)` is 0).
- `WHERE` filters rows, `HAVING` filters groups.

**Exercise:** list each learner's average quiz score, best first, only for
learners with at least three submitted attempts.
""",
                    },
                ],
            },
            {
                "title": "PostgreSQL in practice",
                "lessons": [
                    {
                        "key": "pg-indexes",
                        "title": "Indexes and EXPLAIN",
                        "content_type": "text",
                        "minutes": 30,
                        "difficulty": "intermediate",
                        "skills": ["postgresql", "sql"],
                        "prerequisites": ["sql-joins"],
                        "body": """\
## Let the planner show its work

```sql
EXPLAIN ANALYZE
SELECT * FROM learner_event
WHERE learner_id = 42 AND occurred_at >= now() - interval '7 days';
```

A `Seq Scan` over millions of rows means no usable index. A B-tree index on
`(learner_id, occurred_at)` serves this query: equality column first, range
column second.

Indexes cost writes and space: add them for queries you actually run, and
check with `EXPLAIN` that they are used.
""",
                    },
                    {
                        "key": "pg-jsonb",
                        "title": "JSONB and transactions",
                        "content_type": "video",
                        "minutes": 30,
                        "difficulty": "intermediate",
                        "skills": ["postgresql"],
                        "prerequisites": ["pg-indexes"],
                        "video_url": "https://videos.skillstudio.test/postgres/jsonb.mp4",
                        "body": """\
## Flexible fields, still queryable

```sql
SELECT user_id FROM learner_profile
WHERE skill_levels @> '{"python": 7}';
CREATE INDEX ON learner_profile USING gin (skill_levels);
```

`@>` ("contains") is served by a GIN index.

## All or nothing

```sql
BEGIN;
UPDATE account SET balance = balance - 50 WHERE id = 1;
UPDATE account SET balance = balance + 50 WHERE id = 2;
COMMIT;
```

If anything fails before `COMMIT`, `ROLLBACK` leaves both rows untouched.
""",
                    },
                ],
            },
        ],
        "quiz": {
            "title": "SQL and PostgreSQL quiz",
            "passing_score": 60,
            "questions": [
                {
                    "kind": "single_choice",
                    "prompt": "Which clause filters groups after aggregation?",
                    "skill": "sql",
                    "choices": [("HAVING", True), ("WHERE", False), ("ORDER BY", False)],
                    "explanation": "`WHERE` filters rows before grouping; `HAVING` filters groups.",
                },
                {
                    "kind": "true_false",
                    "prompt": "`NULL = NULL` is true in SQL.",
                    "skill": "sql",
                    "choices": tf(False),
                    "explanation": "Comparing with NULL yields NULL (unknown); use `IS NULL`.",
                },
                {
                    "kind": "short_text",
                    "prompt": "Which JSONB operator tests containment (and can use a GIN index)?",
                    "skill": "postgresql",
                    "difficulty": "intermediate",
                    "accepted": ["@>"],
                    "explanation": "`a @> b` is true when JSON document a contains b.",
                },
                {
                    "kind": "numeric",
                    "prompt": "A LEFT JOIN of 3 courses to 0 enrollments returns how many rows?",
                    "skill": "sql",
                    "difficulty": "intermediate",
                    "answer": "3",
                    "tolerance": "0",
                    "explanation": "LEFT JOIN keeps every left row, padding with NULLs.",
                },
            ],
        },
    },
    {
        "slug": "web-foundations",
        "title": "Web Foundations: HTML, CSS and JavaScript",
        "description": "Build accessible pages with semantic HTML, lay them out with modern "
        "CSS, and make them interactive with a little JavaScript.",
        "difficulty": "beginner",
        "estimated_hours": 10,
        "skills": ["html_css", "javascript"],
        "prerequisites": [],
        "modules": [
            {
                "title": "Structure and style",
                "lessons": [
                    {
                        "key": "web-html",
                        "title": "Semantic HTML",
                        "content_type": "text",
                        "minutes": 20,
                        "skills": ["html_css"],
                        "body": """\
## Say what things are

```html
<header><nav><a href="/">Home</a></nav></header>
<main>
  <h1>Course catalog</h1>
  <form>
    <label for="q">Search</label>
    <input id="q" name="q" type="search">
  </form>
</main>
```

Screen readers, search engines and keyboard users rely on `main`, `nav`,
headings in order and `label`s tied to inputs. A `<div onclick>` is not a
button: use `<button>`.
""",
                    },
                    {
                        "key": "web-css",
                        "title": "Layout with flexbox and grid",
                        "content_type": "exercise",
                        "minutes": 35,
                        "skills": ["html_css"],
                        "prerequisites": ["web-html"],
                        "body": """\
## One dimension: flexbox

```css
.toolbar { display: flex; gap: 1rem; align-items: center; }
.toolbar .spacer { flex: 1; }
```

## Two dimensions: grid

```css
.cards {
  display: grid;
  grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr));
  gap: 1.5rem;
}
```

`auto-fill` with `minmax` gives a responsive card grid without media queries.

**Exercise:** lay out the course cards so they show one column on a phone and
three on a laptop.
""",
                    },
                ],
            },
            {
                "title": "JavaScript in the browser",
                "lessons": [
                    {
                        "key": "js-basics",
                        "title": "Values, functions and the DOM",
                        "content_type": "text",
                        "minutes": 30,
                        "skills": ["javascript"],
                        "body": """\
## The essentials

```js
const price = 12;           // cannot be reassigned
let count = 0;              // can be
const total = (a, b) => a + b;
console.log(2 + "2");       // "22": + concatenates when a string is involved
console.log(2 === "2");     // false: always use === (no type coercion)
```

## Touch the page

```js
const button = document.querySelector("#enroll");
button.addEventListener("click", () => {
  button.textContent = "Enrolled";
});
```
""",
                    },
                    {
                        "key": "js-fetch",
                        "title": "Talking to an API with fetch",
                        "content_type": "video",
                        "minutes": 30,
                        "difficulty": "intermediate",
                        "skills": ["javascript", "rest_api"],
                        "prerequisites": ["js-basics"],
                        "video_url": "https://videos.skillstudio.test/js/fetch.mp4",
                        "body": """\
## Promises and async/await

```js
async function loadCourses() {
  const response = await fetch("/api/v1/courses/");
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const page = await response.json();
  return page.results;
}
```

`fetch` only rejects on network failure: a 404 or 500 still resolves, so check
`response.ok` yourself.
""",
                    },
                ],
            },
        ],
        "quiz": {
            "title": "Web Foundations quiz",
            "passing_score": 60,
            "questions": [
                {
                    "kind": "single_choice",
                    "prompt": "Which element should wrap the main content of a page?",
                    "skill": "html_css",
                    "choices": [("<main>", True), ("<div id='main'>", False), ("<body>", False)],
                    "explanation": "`<main>` is the landmark assistive technology jumps to.",
                },
                {
                    "kind": "short_text",
                    "prompt": 'In JavaScript, what does `2 + "2"` evaluate to? (type the value)',
                    "skill": "javascript",
                    "accepted": ["22", '"22"', "'22'"],
                    "explanation": 'With a string operand `+` concatenates: the result is "22".',
                },
                {
                    "kind": "true_false",
                    "prompt": "`fetch()` rejects its promise when the server answers 404.",
                    "skill": "javascript",
                    "difficulty": "intermediate",
                    "choices": tf(False),
                    "explanation": "Only network errors reject; check `response.ok`.",
                },
                {
                    "kind": "multiple_choice",
                    "prompt": "Which CSS features lay out items in two dimensions?",
                    "skill": "html_css",
                    "choices": [("grid", True), ("flexbox", False), ("float", False)],
                    "explanation": "Grid handles rows and columns; flexbox is one-dimensional.",
                },
            ],
        },
    },
    {
        "slug": "python-backend-flask",
        "title": "Python Backend Development with Flask",
        "description": "Build a JSON API with Flask: routing, request handling, a "
        "PostgreSQL database, validation and tests.",
        "difficulty": "intermediate",
        "estimated_hours": 20,
        "skills": ["python", "flask", "rest_api"],
        "prerequisites": ["python-fundamentals", "sql-and-postgresql"],
        "modules": [
            {
                "title": "Flask basics",
                "lessons": [
                    {
                        "key": "flask-routes",
                        "title": "Routes and views",
                        "content_type": "text",
                        "minutes": 30,
                        "difficulty": "intermediate",
                        "skills": ["flask", "python"],
                        "prerequisites": ["py-functions"],
                        "body": """\
## A whole application

```python
from flask import Flask, jsonify

app = Flask(__name__)

@app.get("/courses/<int:course_id>")
def course_detail(course_id: int):
    course = find_course(course_id)
    if course is None:
        return jsonify(error="not found"), 404
    return jsonify(id=course.id, title=course.title)
```

Run it with `flask --app app run --debug`. The `<int:course_id>` converter
rejects `/courses/abc` with a 404 before your code runs.
""",
                    },
                    {
                        "key": "flask-requests",
                        "title": "Requests, validation and errors",
                        "content_type": "exercise",
                        "minutes": 40,
                        "difficulty": "intermediate",
                        "skills": ["flask", "rest_api"],
                        "prerequisites": ["flask-routes"],
                        "body": """\
## Never trust input

```python
from flask import request

@app.post("/goals")
def create_goal():
    data = request.get_json(silent=True) or {}
    errors = {}
    if not data.get("title"):
        errors["title"] = "A title is required."
    if not 0 < data.get("weekly_hours", 0) <= 80:
        errors["weekly_hours"] = "Between 0 and 80 hours."
    if errors:
        return jsonify(errors=errors), 400
    goal = save_goal(data)
    return jsonify(id=goal.id), 201
```

Bad input is the client's mistake: answer 4xx with a clear message, never 500.

**Exercise:** add a `deadline` that must be a date in the future.
""",
                    },
                ],
            },
            {
                "title": "Designing the API",
                "lessons": [
                    {
                        "key": "rest-design",
                        "title": "Resources, verbs and status codes",
                        "content_type": "video",
                        "minutes": 30,
                        "difficulty": "intermediate",
                        "skills": ["rest_api"],
                        "prerequisites": ["flask-requests"],
                        "video_url": "https://videos.skillstudio.test/rest/design.mp4",
                        "body": """\
## Nouns in the URL, verbs in the method

| method | path | meaning | success |
| --- | --- | --- | --- |
| GET | /courses | list | 200 |
| POST | /courses | create | 201 + Location |
| GET | /courses/7 | read one | 200 |
| PATCH | /courses/7 | change some fields | 200 |
| DELETE | /courses/7 | remove | 204 |

`GET`, `PUT` and `DELETE` are **idempotent**: repeating them has the same
effect as doing them once. Paginate lists and return one consistent error
shape.
""",
                    },
                    {
                        "key": "flask-database",
                        "title": "Persisting data in PostgreSQL",
                        "content_type": "text",
                        "minutes": 40,
                        "difficulty": "advanced",
                        "skills": ["flask", "postgresql"],
                        "prerequisites": ["rest-design", "pg-jsonb"],
                        "body": """\
## One connection per request

```python
import psycopg
from flask import g

def db():
    if "db" not in g:
        g.db = psycopg.connect(app.config["DATABASE_URL"])
    return g.db

@app.teardown_appcontext
def close_db(exc):
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()
```

Always pass values as parameters: `cur.execute("SELECT * FROM course WHERE
id = %s", [course_id])`. Formatting them into the SQL string invites SQL
injection.
""",
                    },
                ],
            },
        ],
        "quiz": {
            "title": "Flask and REST quiz",
            "passing_score": 70,
            "questions": [
                {
                    "kind": "single_choice",
                    "prompt": "Which status code should a successful POST that creates a "
                    "resource return?",
                    "skill": "rest_api",
                    "difficulty": "intermediate",
                    "choices": [("201 Created", True), ("200 OK", False), ("204", False)],
                    "explanation": "201 with a Location header tells the client where it lives.",
                },
                {
                    "kind": "multiple_choice",
                    "prompt": "Which HTTP methods are idempotent?",
                    "skill": "rest_api",
                    "difficulty": "intermediate",
                    "choices": [("GET", True), ("PUT", True), ("DELETE", True), ("POST", False)],
                    "explanation": "Repeating GET, PUT or DELETE has the effect of doing it once.",
                },
                {
                    "kind": "true_false",
                    "prompt": "In Flask, `<int:course_id>` in a route rejects `/courses/abc` "
                    "with a 404.",
                    "skill": "flask",
                    "difficulty": "intermediate",
                    "choices": tf(True),
                    "explanation": "The converter does not match, so no route matches: 404.",
                },
                {
                    "kind": "short_text",
                    "prompt": "Which Flask object stores per-request data such as a DB connection?",
                    "skill": "flask",
                    "difficulty": "intermediate",
                    "accepted": ["g", "flask.g"],
                    "explanation": "`flask.g` lives for one application context (one request).",
                },
                {
                    "kind": "numeric",
                    "prompt": "What status code means 'No Content' (a successful DELETE)?",
                    "skill": "rest_api",
                    "answer": "204",
                    "tolerance": "0",
                    "explanation": "204 No Content: success, empty body.",
                },
            ],
        },
    },
    {
        "slug": "async-python-and-docker",
        "title": "Async Python and Docker Deployment",
        "description": "Handle thousands of slow connections with asyncio, then package "
        "and ship your service in containers.",
        "difficulty": "advanced",
        "estimated_hours": 16,
        "skills": ["async_programming", "docker", "python"],
        "prerequisites": ["python-backend-flask", "git-and-testing"],
        "modules": [
            {
                "title": "asyncio",
                "lessons": [
                    {
                        "key": "async-basics",
                        "title": "Coroutines and the event loop",
                        "content_type": "text",
                        "minutes": 35,
                        "difficulty": "advanced",
                        "skills": ["async_programming", "python"],
                        "body": """\
## Waiting without blocking

```python
import asyncio

async def fetch_profile(user_id: int) -> dict:
    await asyncio.sleep(0.2)      # stands in for a network call
    return {"id": user_id}

async def main():
    profiles = await asyncio.gather(*(fetch_profile(i) for i in range(100)))
    print(len(profiles))          # 100, after ~0.2 s, not 20 s

asyncio.run(main())
```

`await` hands control back to the event loop while waiting. Calling a
coroutine function without `await` only creates a coroutine object: nothing
runs.
""",
                    },
                    {
                        "key": "async-pitfalls",
                        "title": "Blocking calls, timeouts and cancellation",
                        "content_type": "exercise",
                        "minutes": 40,
                        "difficulty": "advanced",
                        "skills": ["async_programming"],
                        "prerequisites": ["async-basics"],
                        "body": """\
## One blocking call stalls everyone

`time.sleep(1)` or a synchronous HTTP client inside a coroutine freezes the
whole loop. Move blocking work to a thread:

```python
data = await asyncio.to_thread(read_big_file, path)
```

## Bound every wait

```python
async with asyncio.timeout(2):
    reply = await client.get(url)
```

A timeout cancels the inner task; clean up in `finally` blocks.

**Exercise:** fetch 20 URLs with at most 5 in flight (hint: `asyncio.Semaphore`).
""",
                    },
                ],
            },
            {
                "title": "Containers",
                "lessons": [
                    {
                        "key": "docker-images",
                        "title": "Images and Dockerfiles",
                        "content_type": "video",
                        "minutes": 30,
                        "difficulty": "intermediate",
                        "skills": ["docker"],
                        "video_url": "https://videos.skillstudio.test/docker/images.mp4",
                        "body": """\
## Layers, cached in order

```dockerfile
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["gunicorn", "app:app", "--bind", "0.0.0.0:8000"]
```

Copying `requirements.txt` before the code means a code change does not
reinstall every dependency. Build with `docker build -t courses-api .` and run
with `docker run -p 8000:8000 courses-api`.
""",
                    },
                    {
                        "key": "docker-compose",
                        "title": "Compose: app, database and cache",
                        "content_type": "text",
                        "minutes": 30,
                        "difficulty": "advanced",
                        "skills": ["docker", "postgresql"],
                        "prerequisites": ["docker-images"],
                        "body": """\
## Several containers, one file

```yaml
services:
  web:
    build: .
    environment:
      DATABASE_URL: postgres://app:secret@db/app
    depends_on: [db]
  db:
    image: postgres:16
    volumes: [pgdata:/var/lib/postgresql/data]
volumes:
  pgdata:
```

Containers are disposable; data is not. Keep the database files in a named
volume so `docker compose down` does not delete them.
""",
                    },
                ],
            },
        ],
        "quiz": {
            "title": "Async and Docker quiz",
            "passing_score": 70,
            "questions": [
                {
                    "kind": "true_false",
                    "prompt": "Calling `fetch_profile(1)` on an `async def` function runs it.",
                    "skill": "async_programming",
                    "difficulty": "advanced",
                    "choices": tf(False),
                    "explanation": "It only creates a coroutine, which runs once awaited.",
                },
                {
                    "kind": "numeric",
                    "prompt": "100 coroutines each `await asyncio.sleep(0.2)` under "
                    "`asyncio.gather`. About how many seconds does it take?",
                    "skill": "async_programming",
                    "difficulty": "advanced",
                    "answer": "0.2",
                    "tolerance": "0.05",
                    "explanation": "The waits overlap, so the total is about one wait: 0.2 s.",
                },
                {
                    "kind": "single_choice",
                    "prompt": "Why copy requirements.txt before the source code in a Dockerfile?",
                    "skill": "docker",
                    "difficulty": "intermediate",
                    "choices": [
                        ("The dependency layer stays cached when only code changes", True),
                        ("Docker requires it", False),
                        ("It makes the image smaller", False),
                    ],
                    "explanation": "Layers rebuild from the first changed step onward.",
                },
                {
                    "kind": "short_text",
                    "prompt": "Which asyncio helper runs a blocking function in a thread?",
                    "skill": "async_programming",
                    "difficulty": "advanced",
                    "accepted": ["asyncio.to_thread", "to_thread"],
                    "explanation": "`await asyncio.to_thread(func, *args)` keeps the loop free.",
                },
            ],
        },
    },
]

DIAGNOSTIC: dict[str, Any] = {
    "title": "SkillStudio diagnostic",
    "description": "Twelve short questions, one per skill, so your path starts where you are.",
    "passing_score": 50,
    "questions": [
        {
            "kind": "single_choice",
            "prompt": "What is the type of `3 / 2` in Python 3?",
            "skill": "python",
            "choices": [("float", True), ("int", False), ("Fraction", False)],
            "explanation": "`/` is true division and always returns a float (1.5).",
        },
        {
            "kind": "single_choice",
            "prompt": "Which structure removes duplicates from a list of names fastest?",
            "skill": "data_structures",
            "choices": [("set", True), ("list", False), ("tuple", False)],
            "explanation": "`set(names)` keeps one of each in O(n).",
        },
        {
            "kind": "short_text",
            "prompt": "Which Git command shows the commit history?",
            "skill": "git",
            "accepted": ["git log", "git log --oneline"],
            "explanation": "`git log` lists commits, newest first.",
        },
        {
            "kind": "true_false",
            "prompt": "A good test can still pass when the code under test is wrong.",
            "skill": "testing",
            "choices": tf(False),
            "explanation": "A test that cannot fail proves nothing.",
        },
        {
            "kind": "single_choice",
            "prompt": "Which SQL keyword removes duplicate rows from a result?",
            "skill": "sql",
            "choices": [("DISTINCT", True), ("UNIQUE", False), ("GROUP", False)],
            "explanation": "`SELECT DISTINCT` keeps one copy of each row.",
        },
        {
            "kind": "multiple_choice",
            "prompt": "Which are PostgreSQL index types?",
            "skill": "postgresql",
            "difficulty": "intermediate",
            "choices": [("B-tree", True), ("GIN", True), ("BRIN", True), ("JSON", False)],
            "explanation": "B-tree is the default; GIN serves JSONB and arrays; BRIN large "
            "ordered tables. JSON is a data type.",
        },
        {
            "kind": "true_false",
            "prompt": "Every form input should have an associated <label>.",
            "skill": "html_css",
            "choices": tf(True),
            "explanation": "Labels name inputs for screen readers and enlarge the click target.",
        },
        {
            "kind": "single_choice",
            "prompt": "Which comparison operator should you use in JavaScript by default?",
            "skill": "javascript",
            "choices": [("===", True), ("==", False), ("=", False)],
            "explanation": "`===` compares without type coercion.",
        },
        {
            "kind": "short_text",
            "prompt": "In Flask, which decorator shortcut registers a view for GET requests?",
            "skill": "flask",
            "difficulty": "intermediate",
            "accepted": ["@app.get", "app.get", "@app.route"],
            "explanation": "`@app.get('/p')` is short for `@app.route('/p', methods=['GET'])`.",
        },
        {
            "kind": "numeric",
            "prompt": "Which HTTP status code means 'Not Found'?",
            "skill": "rest_api",
            "answer": "404",
            "tolerance": "0",
            "explanation": "4xx codes are client errors; 404 means no such resource.",
        },
        {
            "kind": "single_choice",
            "prompt": "What does `await` do inside a coroutine?",
            "skill": "async_programming",
            "difficulty": "intermediate",
            "choices": [
                ("Suspends it until the awaited result is ready, letting others run", True),
                ("Blocks the whole program until the result is ready", False),
                ("Starts a new thread", False),
            ],
            "explanation": "The event loop runs other tasks while this one waits.",
        },
        {
            "kind": "true_false",
            "prompt": "Deleting a container also deletes the named volumes it used.",
            "skill": "docker",
            "difficulty": "intermediate",
            "choices": tf(False),
            "explanation": "Named volumes outlive containers; that is what they are for.",
        },
    ],
}

# The demo learner's story: finished Python Fundamentals, halfway through the
# Flask course, shaky on SQL and async. Indexes are question positions (0-based)
# answered correctly in each attempt; every other question is answered wrongly.
DEMO_GOAL = {
    "title": "Become a Python backend developer",
    "weekly_hours": 6,
    "deadline_days": 120,
    "targets": {"python": 8, "flask": 7, "rest_api": 7, "postgresql": 6, "docker": 5},
}
DEMO_ENROLLMENTS = {
    "python-fundamentals": {"completed_lessons": 4, "days_ago": 40},
    "python-backend-flask": {"completed_lessons": 2, "started_lessons": 1, "days_ago": 18},
    "sql-and-postgresql": {"completed_lessons": 1, "days_ago": 10},
}
DEMO_ATTEMPTS = [
    {"assessment": "SkillStudio diagnostic", "days_ago": 42, "correct": [0, 1, 2, 3, 6, 7, 9]},
    {"assessment": "Python Fundamentals quiz", "days_ago": 30, "correct": [0, 2, 3, 4]},
    {"assessment": "SQL and PostgreSQL quiz", "days_ago": 8, "correct": [0]},
    {"assessment": "Flask and REST quiz", "days_ago": 3, "correct": [0, 2, 4]},
]
