"""AWS KMS's Encrypt and Decrypt (the JSON 1.1 protocol), enough to keep the engine tests' Pulumi secrets
(`pulumi stack init --secrets-provider awskms://…`; see `secrets_provider`).

Why: the passphrase secrets provider derives its key with a million PBKDF2 rounds in every CLI start that reads a
secret, a fifth of a second of CPU each, some 140 times in `make test`. With KMS, the CLI asks for its data key once a
start, a loopback request. The stacks' secrets are still encrypted in the state and the config files (the tests that
look for a secret there still can fail); the demo and the acceptance suite keep the passphrase, as a user's stack has.

Strict as KMS is: a request must be SigV4-signed for `kms` in the key's region; the key is named by its id, ARN,
alias or alias ARN; a ciphertext is one this key made, decrypted with the encryption context it was made with."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from typing import Any

from tests.emulators.http import ApiError, Emulator, Request, Response

ALIAS = "alias/engine-tests"
_JSON = "application/x-amz-json-1.1"


def _error(kind: str, message: str) -> ApiError:
    return ApiError(400, {"__type": kind, "message": message}, {"Content-Type": _JSON})


class KmsEmulator(Emulator):
    """One symmetric key, with an alias, in one region of one account."""

    def __init__(self, region: str = "us-east-1", account: str = "123456789012") -> None:
        super().__init__()
        self.region = region
        self.key_arn = f"arn:aws:kms:{region}:{account}:key/{uuid.uuid4()}"
        self._names = {self.key_arn, self.key_arn.rsplit("/", 1)[1], ALIAS, f"arn:aws:kms:{region}:{account}:{ALIAS}"}
        self._made: dict[bytes, tuple[bytes, dict[str, str]]] = {}
        """Each ciphertext made, with its plaintext and encryption context: the key never leaves, as in KMS."""
        self.route("POST", "/", "kms", self._call)

    def secrets_provider(self) -> str:
        """The `--secrets-provider` URL of this key, for `pulumi stack init`."""
        return f"awskms://{ALIAS}?region={self.region}&endpoint={self.url}"

    def before(self, request: Request, operation: str) -> None:
        """A request KMS would not authenticate is refused (no signature, another service or region)."""
        auth = request.headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 Credential="):
            raise _error("MissingAuthenticationTokenException", "Request is missing Authentication Token")
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) != 5 or scope[2:] != [self.region, "kms", "aws4_request"]:
            raise _error("InvalidSignatureException", f"Credential should be scoped to {self.region}/kms")

    def _call(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        body = request.json()
        if not isinstance(body, dict):
            raise _error("SerializationException", "the body must be a JSON object")
        if target == "TrentService.Encrypt":
            answer = self._encrypt(body)
        elif target == "TrentService.Decrypt":
            answer = self._decrypt(body)
        else:
            raise _error("UnknownOperationException", f"operation {target!r} is not served here")
        return Response(200, {**answer, "KeyId": self.key_arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                        {"Content-Type": _JSON})  # fmt: skip

    def _encrypt(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("KeyId") not in self._names:
            raise _error("NotFoundException", f"Key '{body.get('KeyId')}' does not exist")
        plaintext = _blob(body, "Plaintext")
        if not 1 <= len(plaintext) <= 4096:
            raise _error("ValidationException", "Plaintext must be 1 to 4096 bytes")
        ciphertext = b"\x01" + secrets.token_bytes(47)
        self._made[ciphertext] = (plaintext, dict(body.get("EncryptionContext") or {}))
        return {"CiphertextBlob": base64.b64encode(ciphertext).decode()}

    def _decrypt(self, body: dict[str, Any]) -> dict[str, Any]:
        if "KeyId" in body and body["KeyId"] not in self._names:
            raise _error("IncorrectKeyException", "The key ID in the request does not identify the key it was made by")
        made = self._made.get(_blob(body, "CiphertextBlob"))
        if made is None or made[1] != dict(body.get("EncryptionContext") or {}):
            raise _error("InvalidCiphertextException", "")
        return {"Plaintext": base64.b64encode(made[0]).decode()}


def _blob(body: dict[str, Any], name: str) -> bytes:
    value = body.get(name)
    if not isinstance(value, str):
        raise _error("ValidationException", f"{name} is required")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise _error("SerializationException", f"{name} is not base64") from None
