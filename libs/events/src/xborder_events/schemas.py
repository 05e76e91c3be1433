"""Export the contracts as JSON Schema (draft 2020-12) and one AsyncAPI 3.0.0 document.

`make schemas` runs `python -m xborder_events.schemas` from the repository root, which writes
`libs/events/schemas/`: `<EventName>.v<N>.schema.json` per event, `envelope.schema.json` and
`asyncapi.json`. `--check` writes nothing and exits 1 if any file differs, is missing or is extra.
The output is sorted and newline-terminated, so regenerating unchanged models is byte-identical.
Writing refuses to replace a schema with one that breaks its consumers (see `compat`) unless
`--allow-breaking` is given, which is only for a version that was never published.

Published schemas leave out `additionalProperties: false`: an event version gains optional
fields over time, and consumers must accept them (`decode` ignores fields it does not know).
"""

import argparse
import inspect
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from xborder_events.base import Event
from xborder_events.compat import breaking_changes
from xborder_events.envelope import CONTENT_TYPE, Envelope
from xborder_events.registry import REGISTRY
from xborder_events.topics import SERVICE_TOPICS

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_ID: Final = "urn:xborder:events:envelope"
DEFAULT_OUT: Final = Path("libs/events/schemas")
KAFKA_BINDING_VERSION: Final = "0.5.0"


class ContractSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, open to added properties (see the module's docstring)."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        """The model's schema without `additionalProperties: false`."""
        json_schema = super().model_schema(schema)
        if json_schema.get("additionalProperties") is False:
            del json_schema["additionalProperties"]
        return json_schema


def event_file(model: type[Event]) -> str:
    """The file name of an event's schema, e.g. "OrderPlaced.v1.schema.json"."""
    return f"{model.event_name}.v{model.event_version}.schema.json"


def event_schema(model: type[Event]) -> dict[str, Any]:
    """The standalone JSON Schema of one event version."""
    return {
        "$schema": DIALECT,
        "$id": model.schema_urn(),
        **model.model_json_schema(schema_generator=ContractSchema),
        "x-event-type": model.event_type(),
        "x-topic": model.topic,
        "x-producer": model.producer,
    }


def envelope_schema() -> dict[str, Any]:
    """The standalone JSON Schema of the CloudEvents envelope."""
    schema = Envelope.model_json_schema(schema_generator=ContractSchema)
    return {"$schema": DIALECT, "$id": ENVELOPE_ID, **schema}


def _channel_id(topic: str) -> str:
    return topic.split(".")[1]  # "xborder.orders.v1" -> "orders"


def _message_id(model: type[Event]) -> str:
    return f"{model.event_name}.v{model.event_version}"


def _cloudevent_trait() -> dict[str, Any]:
    """The Kafka key and `ce_` headers every message shares."""
    properties: dict[str, Any] = {"content-type": {"type": "string", "const": CONTENT_TYPE}}
    required = ["content-type"]
    for name, field in Envelope.model_fields.items():
        if name == "data":
            continue
        properties[f"ce_{name}"] = {"type": "string", "description": field.description or name}
        if field.is_required() or field.default is not None:
            required.append(f"ce_{name}")
    key = {
        "type": "string",
        "format": "uuid",
        "description": "The order id (the CloudEvent subject): one order's events, one partition.",
    }
    return {
        "headers": {"type": "object", "properties": properties, "required": sorted(required)},
        "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _message(model: type[Event], data_ref: JsonSchemaValue) -> dict[str, Any]:
    doc = inspect.getdoc(model) or model.event_name
    payload = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "type": {"const": model.event_type()},
            "dataschema": {"const": model.schema_urn()},
            "data": data_ref,
        },
    }
    return {
        "name": model.event_type(),
        "title": model.event_name,
        "summary": doc.splitlines()[0],
        "description": doc,
        "contentType": CONTENT_TYPE,
        "traits": [{"$ref": "#/components/messageTraits/CloudEvent"}],
        "payload": {"allOf": [{"$ref": "#/components/schemas/Envelope"}, payload]},
    }


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document: one channel per topic, one send operation per producer."""
    models: list[type[BaseModel]] = [Envelope, *REGISTRY.values()]
    refs, definitions = models_json_schema(
        [(model, "validation") for model in models],
        ref_template="#/components/schemas/{model}",
        schema_generator=ContractSchema,
    )
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for service, topic in SERVICE_TOPICS.items():
        channel = _channel_id(topic)
        produced = [m for m in REGISTRY.values() if m.topic == topic]
        ids = [_message_id(m) for m in produced]
        for model, message_id in zip(produced, ids, strict=True):
            messages[message_id] = _message(model, refs[(model, "validation")])
        channels[channel] = {
            "address": topic,
            "description": f"Events {service} publishes, keyed by order id.",
            "messages": {i: {"$ref": f"#/components/messages/{i}"} for i in ids},
            "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        operations[f"{service}.send"] = {
            "action": "send",
            "title": f"{service} publishes its events",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{i}"} for i in ids],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "xborder events",
            "version": "1.0.0",
            "description": (
                "The public events of xborder's services, as CloudEvents 1.0 in structured JSON "
                "mode. A published event version only gains optional fields; a breaking change "
                "is a new version."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": definitions["$defs"],
            "messages": messages,
            "messageTraits": {"CloudEvent": _cloudevent_trait()},
        },
    }


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render() -> dict[str, str]:
    """Every schema file's name and content, as the models define them now."""
    files = {event_file(model): _dump(event_schema(model)) for model in REGISTRY.values()}
    files["envelope.schema.json"] = _dump(envelope_schema())
    files["asyncapi.json"] = _dump(asyncapi())
    return dict(sorted(files.items()))


def compare(out: Path, files: dict[str, str]) -> list[str]:
    """One line per file of `out` that differs from `files`, is missing, or is extra."""
    present = {path.name for path in out.glob("*.json")} if out.is_dir() else set()
    problems = []
    for name in sorted(present | files.keys()):
        if name not in files:
            problems.append(f"extra: {out / name}")
        elif name not in present:
            problems.append(f"missing: {out / name}")
        elif (out / name).read_bytes() != files[name].encode():
            problems.append(f"differs: {out / name}")
    return problems


def breaking(out: Path, files: dict[str, str]) -> list[str]:
    """Each breaking change the new schema files would make to those already in `out`."""
    problems: list[str] = []
    for name, text in files.items():
        path = out / name
        if name.endswith(".schema.json") and path.is_file():
            old, new = json.loads(path.read_text(encoding="utf-8")), json.loads(text)
            problems.extend(f"{name}: {change}" for change in breaking_changes(old, new))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Write the schema files, or with --check compare them; the exit status is 1 on a mismatch."""
    parser = argparse.ArgumentParser(prog="python -m xborder_events.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a mismatch")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument(
        "--allow-breaking", action="store_true", help="for an event version never published"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    files = render()
    if args.check:
        problems = compare(out, files)
        for line in problems:
            print(line)
        if problems:
            print("the committed schemas do not match the models: run `make schemas`")
        return 1 if problems else 0
    if problems := ([] if args.allow_breaking else breaking(out, files)):
        for line in problems:
            print(line)
        print("not written: a published version only gains optional fields; add a new version")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_bytes(text.encode())
        print(f"wrote {out / name}")
    for line in compare(out, files):  # only extra files can remain
        print(f"{line} (no model produces it; remove it only if it was never published)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
