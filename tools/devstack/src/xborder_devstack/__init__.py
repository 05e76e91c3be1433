"""Runs xborder on one machine with embedded PostgreSQL and an embedded Kafka-protocol broker."""
