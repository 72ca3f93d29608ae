"""Taking one message from the broker.

On PostgreSQL the ORM broker's message is taken in one statement that skips rows other processes are
taking (FOR UPDATE SKIP LOCKED): worker processes that poll the queue each on their own then never
collide on the same row, which django-q2's read-then-update dequeue makes them do.
"""

import time
from functools import cache
from typing import Any

from django import db
from django.utils import timezone
from django_q.brokers import Broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ


@cache
def _take_sql() -> str:
    connection = db.connections[Conf.ORM]
    quote = connection.ops.quote_name
    table = quote(OrmQ._meta.db_table)
    pk, key, lock, payload = (
        quote(OrmQ._meta.get_field(name).column) for name in ("id", "key", "lock", "payload")
    )
    return (
        f"UPDATE {table} SET {lock} = %s WHERE {pk} = ("  # noqa: S608  # nosec B608 - model names only
        f"SELECT {pk} FROM {table} WHERE {key} = %s AND {lock} < %s ORDER BY {pk} LIMIT 1 "
        f"FOR UPDATE SKIP LOCKED) RETURNING {pk}, {payload}"
    )


def take(broker: Broker) -> list[tuple[Any, str]]:
    """One (ack id, payload) from the queue, or none after a poll interval's sleep."""
    connection = db.connections[Conf.ORM]
    if not isinstance(broker, ORM) or connection.vendor != "postgresql":
        return list(broker.dequeue() or [])
    db.close_old_connections()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_take_sql(), [broker.timeout(None), broker.list_key, now])
        row = cursor.fetchone()
    if row is None:
        time.sleep(Conf.POLL)
        return []
    return [(row[0], row[1])]
