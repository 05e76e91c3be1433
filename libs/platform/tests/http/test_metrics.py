"""Request metrics: route templates as labels, probes excluded, one registry per app."""

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Gauge

from xborder_platform.http.limits import BodyLimitMiddleware
from xborder_platform.http.metrics import install_metrics, metrics_registry
from xborder_platform.http.problems import install_problem_handlers


def build_app(service: str = "demo-svc") -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=16)
    install_metrics(app, service=service)

    @app.get("/orders/{order_id}")
    async def order(order_id: str) -> dict[str, str]:
        if order_id == "boom":
            raise RuntimeError("failed")
        return {"id": order_id}

    @app.post("/orders")
    async def place() -> dict[str, str]:
        return {"id": "new"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def count(app: FastAPI, **labels: str) -> float:
    value = metrics_registry(app).get_sample_value(
        "http_requests_total", {"service": "demo-svc", **labels}
    )
    return value or 0.0


async def test_requests_are_counted_by_route_template(client_for) -> None:
    app = build_app()
    async with client_for(app) as client:
        for order_id in ("o-1", "o-2", "o-3"):
            assert (await client.get(f"/orders/{order_id}")).status_code == 200
    assert count(app, method="GET", route="/orders/{order_id}", status="200") == 3
    assert count(app, method="GET", route="/orders/o-1", status="200") == 0
    duration = metrics_registry(app).get_sample_value(
        "http_request_duration_seconds_count",
        {"service": "demo-svc", "method": "GET", "route": "/orders/{order_id}"},
    )
    assert duration == 3


async def test_unknown_paths_share_one_label(client_for) -> None:
    app = build_app()
    async with client_for(app) as client:
        for path in ("/a", "/b/c", "/wp-admin.php"):
            assert (await client.get(path)).status_code == 404
    assert count(app, method="GET", route="unmatched", status="404") == 3


async def test_errors_and_refusals_are_counted_with_their_status(client_for) -> None:
    app = build_app()
    async with client_for(app) as client:
        assert (await client.get("/orders/boom")).status_code == 500
        assert (await client.delete("/orders/o-1")).status_code == 405
        assert (await client.post("/orders", content=b"x" * 17)).status_code == 413
        assert (await client.request("BREW", "/orders")).status_code == 405
    assert count(app, method="GET", route="/orders/{order_id}", status="500") == 1
    assert count(app, method="DELETE", route="/orders/{order_id}", status="405") == 1
    # Refused before routing: the body limit answers ahead of the router.
    assert count(app, method="POST", route="unmatched", status="413") == 1
    assert count(app, method="OTHER", route="/orders", status="405") == 1


async def test_probes_and_the_scrape_are_not_counted(client_for) -> None:
    app = build_app()
    async with client_for(app) as client:
        await client.get("/healthz")
        await client.get("/metrics")
        await client.get("/orders/o-1")
        scrape = await client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    assert 'route="/orders/{order_id}"' in scrape.text
    assert "/healthz" not in scrape.text
    assert 'route="/metrics"' not in scrape.text


async def test_each_app_has_its_own_registry_that_others_can_use(client_for) -> None:
    first, second = build_app(), build_app()
    assert metrics_registry(first) is not metrics_registry(second)
    assert isinstance(first.state.metrics_registry, CollectorRegistry)
    backlog = Gauge("xborder_outbox_backlog", "Rows waiting.", registry=metrics_registry(first))
    backlog.set(7)
    async with client_for(first) as client:
        await client.get("/orders/o-1")
        scrape = (await client.get("/metrics")).text
    assert "xborder_outbox_backlog 7.0" in scrape
    assert count(first, method="GET", route="/orders/{order_id}", status="200") == 1
    assert count(second, method="GET", route="/orders/{order_id}", status="200") == 0
