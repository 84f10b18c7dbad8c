"""Key Management API of the simulated eBay: createSigningKey, getSigningKey, getSigningKeys.

eBay's Key Management method pages: ``POST /developer/key_management/v1/signing_key`` with
``{"signingKeyCipher": "ED25519" | "RSA"}``, ``GET .../signing_key/{signing_key_id}`` and
``GET .../signing_key``, each with an application token of the client-credentials grant.
"""

from __future__ import annotations

import json

from .responses import Request, Response, invalid_token, json_response, rest_error
from .signatures import SignatureAuthority

#: The account an application token (client-credentials grant) stands for.
APPLICATION = "<application>"

DOMAIN = "API_KEY_MANAGEMENT"


def key_management(keys: SignatureAuthority, req: Request, caller: str | None, name: str, args: list[str]) -> Response:
    """Answer one Key Management call made by ``caller`` (the token's account, or None)."""
    if caller != APPLICATION:
        return invalid_token()
    if name == "createSigningKey":
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            body = None
        cipher = body.get("signingKeyCipher") if isinstance(body, dict) else None
        if cipher not in ("ED25519", "RSA"):
            return rest_error(
                400,
                240002,
                DOMAIN,
                "REQUEST",
                "The 'signingKeyCipher' value is invalid.",
                parameters=[{"name": "signingKeyCipher", "value": str(cipher)}],
            )
        return json_response(keys.create(cipher))
    if name == "getSigningKey":
        record = keys.get(args[0])
        if record is None:
            return rest_error(404, 240001, DOMAIN, "REQUEST", "The signing key was not found.")
        return json_response(record)
    return json_response({"signingKeys": keys.all()})
