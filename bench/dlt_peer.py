"""The peer: dlt's ``rest_api`` source on the simulator's getOrders, merged into PostgreSQL.

Same endpoint, same time range, same PostgreSQL server as ours: an offset paginator of 200
orders per call, ``merge`` on ``orderId``, and dlt's default normalisation (line items land in
the child table ``orders__line_items``).
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from typing import Any

import requests
import sqlalchemy as sa

from bench.env import CLIENT_ID, CLIENT_SECRET, Simulator
from ebay_pipelines.ebay.parsing import format_timestamp
from ebay_pipelines.store.database import make_engine

DATASET = "dlt_bench"


def access_token(sim: Simulator, account: str) -> str:
    """An access token for ``account`` from the simulator's OAuth endpoint (refresh grant)."""
    resp = requests.post(
        f"{sim.base_url}/identity/v1/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": sim.refresh_token(account)},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=30,
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


def _credentials(database_url: str) -> str:
    """dlt's postgres credentials for ``database_url``: a libpq URL (a socket folder goes in ``?host=``)."""
    url = sa.engine.make_url(database_url)
    socket_dir = url.query.get("host")
    if socket_dir and not url.host:
        url = url.set(host="localhost")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def run(sim: Simulator, database_url: str, account: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Load orders modified in ``[since, until]`` with dlt; return rows landed per table."""
    import dlt
    from dlt.sources.rest_api import rest_api_source

    logging.getLogger("dlt").setLevel(logging.WARNING)
    token = access_token(sim, account)
    source = rest_api_source(
        {
            "client": {
                "base_url": f"{sim.base_url}/sell/fulfillment/v1/",
                "auth": {"type": "bearer", "token": token},
                "headers": {"X-EBAY-C-MARKETPLACE-ID": "EBAY_US"},
            },
            "resources": [
                {
                    "name": "orders",
                    "primary_key": "orderId",
                    "write_disposition": "merge",
                    "endpoint": {
                        "path": "order",
                        "params": {
                            "filter": f"lastmodifieddate:[{format_timestamp(since)}..{format_timestamp(until)}]"
                        },
                        "data_selector": "orders",
                        "paginator": {
                            "type": "offset",
                            "limit": 200,
                            "offset_param": "offset",
                            "limit_param": "limit",
                            "total_path": "total",
                        },
                    },
                }
            ],
        }
    )
    with tempfile.TemporaryDirectory(prefix="dlt-bench-") as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name="ebay_orders_bench",
            destination=dlt.destinations.postgres(credentials=_credentials(database_url)),
            dataset_name=DATASET,
            pipelines_dir=pipelines_dir,
        )
        pipeline.run(source)
    engine = make_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        orders = conn.execute(sa.text(f"select count(*) from {DATASET}.orders")).scalar()
        lines = conn.execute(sa.text(f"select count(*) from {DATASET}.orders__line_items")).scalar()
    engine.dispose()
    return {"orders": int(orders or 0), "line_items": int(lines or 0)}
