"""PostgreSQL extensions the catalogue's search needs, created by migration.

pgvector (``vector``) ships with the embedded pgserver; an external PostgreSQL
may not have it installed. Migrating then stops with a message that says what
is missing and how to get it, rather than a bare "could not open extension
control file" or, worse, a search that silently loses its semantic half.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

HINTS = {
    "vector": (
        "Install pgvector on the database server (https://github.com/pgvector/pgvector, "
        "e.g. the postgresql-16-pgvector package), or leave DATABASE_URL unset to use the "
        "embedded PostgreSQL, which ships it."
    ),
}


def missing_extension_error(name: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"The PostgreSQL server has no '{name}' extension, which catalog search needs. "
        f"{HINTS.get(name, '')}".strip()
    )


def ensure_extension(connection, name: str) -> None:
    """CREATE EXTENSION IF NOT EXISTS, with a clear error when the server lacks it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT installed_version IS NOT NULL FROM pg_available_extensions WHERE name = %s",
            [name],
        )
        row = cursor.fetchone()
        if row is None:
            raise missing_extension_error(name)
        if not row[0]:
            cursor.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')


def create_extensions(apps, schema_editor) -> None:
    # No pg_trgm: pgserver ships without the contrib modules, so trigram
    # matching uses a text[] column with a built-in GIN index (catalog.search).
    ensure_extension(schema_editor.connection, "vector")
