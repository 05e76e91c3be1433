"""Topic namespaces: one cluster shared by several environments, each with its own prefix."""

from __future__ import annotations

from dataclasses import dataclass

from xborder_events import topic_for


@dataclass(frozen=True)
class TopicNamespace:
    """Prefixes every topic name with `prefix` (empty: the names in `xborder_events`)."""

    prefix: str = ""

    def topic(self, name: str) -> str:
        """The name of topic `name` in this namespace."""
        return f"{self.prefix}{name}"

    def route(self, event_type: str) -> str:
        """The topic an event type is published to in this namespace."""
        return self.topic(topic_for(event_type))
