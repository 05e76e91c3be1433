"""The committed schema files: current with the models, additive, and a coherent AsyncAPI."""

import json
from pathlib import Path
from typing import Any

import pytest

from xborder_events import REGISTRY, SERVICE_TOPICS
from xborder_events.compat import breaking_changes
from xborder_events.schemas import (
    compare,
    envelope_schema,
    event_file,
    event_schema,
    main,
    render,
)

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
PUBLISHED = sorted(SCHEMAS.glob("*.v*.schema.json"))


def load(name: str) -> dict[str, Any]:
    """A committed schema file."""
    document: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return document


def refs(node: Any) -> list[str]:
    """Every $ref in a JSON document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def test_committed_schemas_match_models() -> None:
    problems = compare(SCHEMAS, render())
    assert not problems, (
        "libs/events/schemas differs from the event models; run `make schemas` and commit:\n"
        + "\n".join(problems)
    )


def test_every_registered_event_has_a_committed_schema() -> None:
    assert {path.name for path in PUBLISHED} >= {event_file(m) for m in REGISTRY.values()}


@pytest.mark.parametrize("path", PUBLISHED, ids=lambda p: p.name)
def test_published_versions_are_additive(path: Path) -> None:
    published = load(path.name)
    model = REGISTRY.get(published["x-event-type"])
    assert model is not None, f"{path.name} was published; its model must stay in the registry"
    assert breaking_changes(published, event_schema(model)) == []


def test_the_envelope_is_additive() -> None:
    assert breaking_changes(load("envelope.schema.json"), envelope_schema()) == []


def test_a_breaking_change_to_a_committed_schema_is_caught() -> None:
    published = load("OrderPlaced.v1.schema.json")
    changed = json.loads(json.dumps(published))
    del changed["$defs"]["OrderItem"]["properties"]["hs_code"]
    changed["$defs"]["Money"]["properties"]["amount"] = {"type": "number"}

    assert breaking_changes(published, changed) == [
        "items[].hs_code: property removed",
        "items[].unit_price.amount: type changed from string to number",
        "totals.duties_and_taxes.amount: type changed from string to number",
        "totals.grand_total.amount: type changed from string to number",
        "totals.items.amount: type changed from string to number",
        "totals.shipping.amount: type changed from string to number",
    ]


def test_event_schemas_are_identified_and_open_to_added_fields() -> None:
    schema = load("OrderPlaced.v1.schema.json")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:xborder:events:OrderPlaced:v1"
    assert schema["title"] == "OrderPlaced"
    assert (schema["x-topic"], schema["x-producer"]) == ("xborder.orders.v1", "order-svc")
    assert "additionalProperties" not in schema
    assert schema["$defs"]["Money"]["properties"]["amount"]["type"] == "string"
    assert "landed_cost_quote_id" not in schema["required"]


def test_rendering_is_stable_sorted_and_newline_terminated() -> None:
    first, second = render(), render()
    assert first == second
    for name, text in first.items():
        assert text.endswith("}\n"), name
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n", name


def test_check_passes_on_the_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--out", str(SCHEMAS)]) == 0
    assert capsys.readouterr().out == ""


def test_check_names_every_differing_missing_and_extra_file() -> None:
    files = render()
    del files["asyncapi.json"]
    files["OrderPlaced.v1.schema.json"] += " "
    files["OrderTeleported.v1.schema.json"] = "{}\n"

    assert compare(SCHEMAS, files) == [
        f"differs: {SCHEMAS / 'OrderPlaced.v1.schema.json'}",
        f"missing: {SCHEMAS / 'OrderTeleported.v1.schema.json'}",
        f"extra: {SCHEMAS / 'asyncapi.json'}",
    ]


def test_check_exits_1_and_says_how_to_fix(capsys: pytest.CaptureFixture[str]) -> None:
    absent = SCHEMAS / "no-such-directory"
    assert main(["--check", "--out", str(absent)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "the committed schemas do not match the models: run `make schemas`"
    assert sorted(lines[:-1]) == sorted(f"missing: {absent / name}" for name in render())


def test_asyncapi_covers_every_topic_and_event() -> None:
    document = load("asyncapi.json")
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    assert {c["address"] for c in channels.values()} == set(SERVICE_TOPICS.values())
    for model in REGISTRY.values():
        message_id = f"{model.event_name}.v{model.event_version}"
        [channel] = [c for c in channels.values() if message_id in c["messages"]]
        assert channel["address"] == model.topic
        operation = document["operations"][f"{model.producer}.send"]
        assert operation["action"] == "send"
        assert {"$ref": f"#/channels/{channel['address'].split('.')[1]}/messages/{message_id}"} in (
            operation["messages"]
        )
        message = document["components"]["messages"][message_id]
        assert message["payload"]["allOf"][1]["properties"]["type"] == {"const": model.event_type()}


def test_asyncapi_describes_the_kafka_key_and_headers() -> None:
    trait = load("asyncapi.json")["components"]["messageTraits"]["CloudEvent"]
    assert trait["bindings"]["kafka"]["key"]["format"] == "uuid"
    headers = trait["headers"]
    assert {"ce_id", "ce_type", "ce_subject", "ce_correlationid", "content-type"} <= set(
        headers["properties"]
    )
    assert "ce_causationid" not in headers["required"]
    assert "ce_time" in headers["required"]


def test_every_asyncapi_reference_resolves() -> None:
    document = load("asyncapi.json")
    for ref in refs(document):
        node: Any = document
        for token in ref.removeprefix("#/").split("/"):
            assert isinstance(node, dict), ref
            assert token in node, ref
            node = node[token]
