"""Refuse request bodies that carry card data, before anything else reads them.

payment-svc takes provider tokens only. Its routers share the platform's guard as a router-level
dependency: it runs before the route's own dependencies (an idempotency key is not even
claimed) and before the body is validated. The answer names the field, never its value; the
refusal is logged with the field and the route's template, never the body.
"""

from __future__ import annotations

from xborder_platform.http.card_data import card_data_guard

#: Dependency: 422 `card-data-refused` when a JSON body carries a card number or card-data field.
refuse_card_data = card_data_guard()
