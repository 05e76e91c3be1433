"""xborder's public event contracts. Imports only pydantic and the standard library."""

from xborder_events.topics import ALL_TOPICS, DEAD_LETTER_TOPICS, SERVICE_TOPICS, dead_letter_topic

__all__ = ["ALL_TOPICS", "DEAD_LETTER_TOPICS", "SERVICE_TOPICS", "dead_letter_topic"]
