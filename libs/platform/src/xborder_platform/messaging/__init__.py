"""Messaging kit: outbox and inbox tables, relay, consumer loop, dead letters."""
