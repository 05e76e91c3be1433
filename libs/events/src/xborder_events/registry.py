"""Every published event, by its CloudEvents type, e.g. "xborder.OrderPlaced.v1"."""

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from xborder_events import customs, orders, payments, shipping
from xborder_events.base import Event
from xborder_events.topics import SERVICE_TOPICS


def _build(events: Iterable[type[Event]]) -> dict[str, type[Event]]:
    """Index the events by type, refusing duplicates and events on another service's topic."""
    registry: dict[str, type[Event]] = {}
    for event in events:
        if event.event_type() in registry:
            raise ValueError(f"{event.event_type()} is defined twice")
        if SERVICE_TOPICS.get(event.producer) != event.topic:
            raise ValueError(f"{event.event_type()}: {event.producer} publishes no {event.topic}")
        registry[event.event_type()] = event
    return registry


#: Every event model by its CloudEvents type.
REGISTRY: Final[Mapping[str, type[Event]]] = MappingProxyType(
    _build((*orders.EVENTS, *payments.EVENTS, *shipping.EVENTS, *customs.EVENTS))
)
#: The event names that have at least one registered version.
EVENT_NAMES: Final[frozenset[str]] = frozenset(event.event_name for event in REGISTRY.values())


def topic_for(event_type: str) -> str:
    """The topic an event type is published on; KeyError for an unregistered type."""
    try:
        return REGISTRY[event_type].topic
    except KeyError:
        raise KeyError(f"no registered event type {event_type!r}") from None
