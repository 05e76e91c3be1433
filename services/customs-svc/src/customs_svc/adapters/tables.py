"""customs-svc's tables, the single source for migrations and queries."""

from sqlalchemy import MetaData

from xborder_platform.http.tables import api_keys_table, idempotency_table
from xborder_platform.messaging.tables import inbox_table, outbox_table

metadata = MetaData()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
api_keys = api_keys_table(metadata)
