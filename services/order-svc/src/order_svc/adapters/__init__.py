"""order-svc's adapters: tables, repositories, external providers."""
