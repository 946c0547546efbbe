"""The KMS emulator the engine tests keep their stacks' secrets with answers as KMS does, to boto3's signed calls,
and refuses what KMS refuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from tests.emulators.kms import ALIAS, KmsEmulator


@pytest.fixture
def kms() -> Iterator[KmsEmulator]:
    with KmsEmulator() as emulator:
        yield emulator


def client(kms: KmsEmulator, region: str = "us-east-1") -> Any:
    return boto3.client(
        "kms", endpoint_url=kms.url, region_name=region, aws_access_key_id="k", aws_secret_access_key="s"
    )


def refusal(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return str(raised.value.response["Error"]["Code"])


def test_what_is_encrypted_by_the_alias_decrypts_with_its_context_only(kms: KmsEmulator) -> None:
    kms_client = client(kms)
    made = kms_client.encrypt(KeyId=ALIAS, Plaintext=b"data key", EncryptionContext={"stack": "test"})
    assert made["KeyId"] == kms.key_arn and b"data key" not in made["CiphertextBlob"]
    blob = made["CiphertextBlob"]
    assert kms_client.decrypt(CiphertextBlob=blob, EncryptionContext={"stack": "test"})["Plaintext"] == b"data key"
    assert refusal(kms_client.decrypt, CiphertextBlob=blob) == "InvalidCiphertextException"
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    assert refusal(kms_client.decrypt, CiphertextBlob=tampered, EncryptionContext={"stack": "test"}) == (
        "InvalidCiphertextException"
    )
    assert kms_client.encrypt(KeyId=kms.key_arn, Plaintext=b"x")["KeyId"] == kms.key_arn  # by ARN too


def test_an_unknown_key_another_region_or_an_unsigned_request_is_refused(kms: KmsEmulator) -> None:
    assert refusal(client(kms).encrypt, KeyId="alias/other", Plaintext=b"x") == "NotFoundException"
    assert refusal(client(kms, "eu-west-1").encrypt, KeyId=ALIAS, Plaintext=b"x") == "InvalidSignatureException"
    unsigned = requests.post(
        kms.url, json={"KeyId": ALIAS, "Plaintext": "eA=="}, headers={"X-Amz-Target": "TrentService.Encrypt"}
    )
    assert unsigned.status_code == 400 and unsigned.json()["__type"] == "MissingAuthenticationTokenException"
    assert kms.secrets_provider() == f"awskms://{ALIAS}?region=us-east-1&endpoint={kms.url}"
