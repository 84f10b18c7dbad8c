"""The Marketplace Account Deletion endpoint: an ASGI application (Starlette) for any ASGI server.

eBay's contract (guide ``develop/guides-v2/marketplace-user-account-deletion``, README Wire facts
"Account deletion"): ``GET ?challenge_code=X`` answers ``{"challengeResponse": hex(sha256(X +
verificationToken + endpointURL))}`` as JSON; a ``POST`` carries a notification signed in
``X-EBAY-SIGNATURE``. A verified notification is stored (``store.deletions``) and answered 204 at
once; the purge runs later, in Dagster. A malformed request is answered 400, a signature that does
not verify 412 (as eBay's SDKs answer), and neither is stored. A re-delivery of a notification
already stored is acknowledged (eBay re-sends until it gets a 2xx) and stores nothing new.

``app`` reads the settings on its first request (or lifespan start): ``uvicorn
ebay_pipelines.deletion_endpoint:app`` works as ``ebay-pipelines notifications serve`` does.
Behind it sits the operator's HTTPS reverse proxy (see the README): eBay calls HTTPS only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ebay_pipelines.ebay.errors import EbayError
from ebay_pipelines.ebay.notifications import (
    SIGNATURE_HEADER,
    DeletionNotification,
    NotificationRejected,
    NotificationVerifier,
    PublicKeyClient,
    challenge_response,
)
from ebay_pipelines.store.deletions import ReceivedNotification, record_notification

logger = logging.getLogger("ebay_pipelines.deletion_endpoint")

#: A deletion notification is well under a kilobyte; anything past this is not one.
MAX_BODY_BYTES = 64 * 1024


def _received(notification: DeletionNotification) -> ReceivedNotification:
    return ReceivedNotification(
        notification_id=notification.notification_id,
        topic=notification.topic,
        user_id_sha256=notification.user_id_sha256,
        event_date=notification.event_date,
        publish_date=notification.publish_date,
        user_id=notification.user_id,
        username=notification.username,
        eias_token=notification.eias_token,
    )


def create_app(
    engine: Callable[[], Engine], verifier: NotificationVerifier, verification_token: str, endpoint_url: str
) -> Starlette:
    """The endpoint application: ``engine`` gives the database, ``verifier`` checks signatures."""

    async def challenge(request: Request) -> Response:
        code = request.query_params.get("challenge_code")
        if not code:
            return JSONResponse({"error": "challenge_code is required"}, status_code=400)
        return JSONResponse({"challengeResponse": challenge_response(code, verification_token, endpoint_url)})

    async def notify(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "the notification is too large"}, status_code=413)
        try:
            notification = await run_in_threadpool(verifier.verify, body, request.headers.get(SIGNATURE_HEADER))
        except NotificationRejected as exc:
            logger.warning("refused a notification: %s", exc.message)
            return JSONResponse({"error": exc.message}, status_code=exc.status or 400)
        except EbayError as exc:
            logger.error("could not verify a notification: %s", exc)
            return JSONResponse({"error": "the signature could not be checked now"}, status_code=500)
        stored = await run_in_threadpool(record_notification, engine(), _received(notification))
        logger.info(
            "notification %s %s", notification.notification_id, "stored" if stored else "already stored: nothing new"
        )
        return Response(status_code=204)

    routes = [
        Route("/", challenge, methods=["GET"]),
        Route("/", notify, methods=["POST"]),
        Route("/{path:path}", challenge, methods=["GET"]),
        Route("/{path:path}", notify, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def app_from_settings() -> Starlette:
    """The endpoint as the project settings configure it (a clear SettingsError when one is missing)."""
    from ebay_pipelines import settings
    from ebay_pipelines.store.database import cached_engine, resolve_target
    from ebay_pipelines.sync.partition_sync import ebay_settings

    current = settings.current()
    token, url = current.notification_endpoint()
    verifier = NotificationVerifier(PublicKeyClient(ebay_settings(current)))
    return create_app(lambda: cached_engine(resolve_target().ebay_url), verifier, token, url)


class _SettingsApp:
    """An ASGI application built from the settings when it is first called."""

    def __init__(self) -> None:
        self._app: Starlette | None = None
        self._lock = threading.Lock()

    def _built(self) -> Starlette:
        with self._lock:
            if self._app is None:
                self._app = app_from_settings()
            return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        await self._built()(scope, receive, send)


#: The endpoint for any ASGI server (``uvicorn ebay_pipelines.deletion_endpoint:app``).
app = _SettingsApp()
