"""payment-svc's tables, the single source for migrations and queries."""

from sqlalchemy import MetaData

from xborder_platform.messaging.tables import inbox_table, outbox_table

metadata = MetaData()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
