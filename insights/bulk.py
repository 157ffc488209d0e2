"""Set-based writes for the weekly chunk: many rows updated by primary key in one statement.

Django's bulk_update builds a CASE WHEN per row and field, which costs more Python than the
rest of a weekly chunk put together; here the new values travel as one array per column.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

# The type name that makes `bulk_update_rows` encode a field's values as JSON.
JSONB = "jsonb"


def bulk_update_rows(model: type[Model], objects: Sequence[Model], fields: dict[str, str]) -> int:
    """Write `fields` (attribute name -> PostgreSQL type) of `objects` by primary key.

    JSON values are encoded here; every other value is passed to the driver as it is.
    Returns the number of rows updated.
    """
    if not objects:
        return 0
    meta = model._meta
    names = list(fields)
    columns = {name: meta.get_field(name).column for name in names}
    arrays = [[obj.pk for obj in objects]]
    for name in names:
        values = [getattr(obj, name) for obj in objects]
        if fields[name] == JSONB:
            values = [json.dumps(value) for value in values]
        arrays.append(values)
    types = ", ".join(f"%s::{fields[name]}[]" for name in names)
    aliases = ", ".join(f'"{name}"' for name in names)
    assignments = ", ".join(f'"{columns[name]}" = v."{name}"' for name in names)
    sql = (
        f'UPDATE "{meta.db_table}" AS t SET {assignments} '  # noqa: S608 - names from model metadata
        f'FROM unnest(%s::bigint[], {types}) AS v(pk, {aliases}) WHERE t."{meta.pk.column}" = v.pk'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount
