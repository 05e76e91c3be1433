"""payment-svc's adapters: tables, repositories, external providers."""
