"""What payment-svc keeps instead of card data.

Card numbers are recognised by the platform's detector (`xborder_platform.http.card_data`), on
every HTTP body and on the provider token an `OrderPlaced` carries.
"""

from __future__ import annotations

from typing import Final

#: What is stored instead of a provider token that turned out to be card data.
REDACTED_TOKEN: Final = "redacted:card_data"
