"""Identity Service namespaces: created, or adopted when one with the same code exists. AEP never deletes one."""

from __future__ import annotations

import re
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from customerio_aep.aep.errors import AepConfigError
from customerio_aep.aep.provider import AepProvider, Props

IDENTITIES = "/data/core/idnamespace/identities"
ID_TYPES = ("COOKIE", "CROSS_DEVICE", "DEVICE", "EMAIL", "MOBILE", "NON_PEOPLE", "PHONE")
STANDARD_CODES = ("ECID", "Email", "Phone")
"""Namespaces every org has: use them by code, without an IdentityNamespace resource."""
_CODE = re.compile(r"^[A-Za-z0-9]+$")


def is_code(code: str) -> bool:
    """Whether `code` has the form of a namespace code: letters and digits only."""
    return bool(_CODE.match(code))


def is_standard(code: str) -> bool:
    """Whether a namespace code names one of AEP's standard namespaces (codes match case-insensitively)."""
    return code.lower() in (c.lower() for c in STANDARD_CODES)


def wire_id_type(id_type: str) -> str:
    """An identity type as Identity Service's spec and guide write it in a request (`Cross_device`); answers and
    this package's inputs use any casing (`CROSS_DEVICE`)."""
    return id_type.capitalize()


class IdentityNamespaceProvider(AepProvider):
    """Name and description update in place (PUT); code and type are fixed, so a new code is a new namespace.
    Destroy leaves the namespace in AEP, which has no DELETE for namespaces."""

    kind = "IdentityNamespace"
    update_fields = ("name", "description")
    replace_fields = ("code", "id_type")
    required_fields = ("name", "code", "id_type")

    def validate(self, news: Props) -> list[tuple[str, str]]:
        """Code of letters and digits, not a standard namespace; a known identity type."""
        problems = []
        code = news.get("code")
        if isinstance(code, str) and code and not is_code(code):
            problems.append(("code", f"{code!r} must be letters and digits only, e.g. CustomerIO"))
        elif isinstance(code, str) and is_standard(code):
            problems.append(("code", f"{code!r} is a standard namespace: use it by code, without an IdentityNamespace"))
        id_type = news.get("id_type")
        if isinstance(id_type, str) and id_type.upper() not in ID_TYPES:
            problems.append(("id_type", f"{id_type!r} is not an identity type; use one of {', '.join(ID_TYPES)}"))
        return problems

    def create_new(self, props: Props) -> CreateResult:
        """Adopt the namespace with this code if the org has one (updating its name/description), else POST."""
        label = self.label(props)
        existing = self._by_code(label, props["code"])
        if existing is not None:
            if str(existing.get("idType", "")).upper() != props["id_type"].upper():
                raise AepConfigError(
                    f"{label}: the org already has namespace {existing['code']!r} with identity type "
                    f"{str(existing.get('idType')).upper()!r}, and a namespace's type cannot change; set id_type to "
                    "it, or use another code"
                )
            wanted = (props["name"], props.get("description") or "")
            if (existing.get("name"), existing.get("description") or "") != wanted:
                self._put(label, existing["id"], props)
            return CreateResult(str(existing["id"]), self._outs(props, existing["id"], adopted=True))
        created = self.client.create(
            label,
            "create identity namespace",
            IDENTITIES,
            {
                "name": props["name"],
                "code": props["code"],
                "idType": wire_id_type(props["id_type"]),
                "description": props.get("description") or "",
            },
            lambda: self._by_code(label, props["code"]),
        )
        return CreateResult(str(created["id"]), self._outs(props, created["id"], adopted=False))

    def _by_code(self, label: str, code: str) -> dict[str, Any] | None:
        namespaces = self.client.call(label, "list identity namespaces", "GET", IDENTITIES).json()
        return next((n for n in namespaces if str(n.get("code", "")).lower() == code.lower()), None)

    def _put(self, label: str, namespace_id: Any, props: Props) -> None:
        body = {
            "name": props["name"],
            "code": props["code"],
            "idType": wire_id_type(props["id_type"]),
            "description": props.get("description") or "",
        }
        self.client.call(label, "update identity namespace", "PUT", f"{IDENTITIES}/{namespace_id}", json=body)

    @staticmethod
    def _outs(props: Props, namespace_id: Any, adopted: bool) -> Props:
        return {**props, "id_type": props["id_type"].upper(), "namespace_id": str(namespace_id), "adopted": adopted}

    def read(self, id_: str, props: Props) -> ReadResult:
        """GET the namespace; its name and description as AEP has them."""
        live = self.client.get(self.label(props), "read identity namespace", f"{IDENTITIES}/{id_}")
        if live is None:
            return ReadResult(None, {})
        outs = {
            **props,
            "name": live["name"],
            "description": live.get("description") or "",
            "code": live["code"],
            "id_type": str(live["idType"]).upper(),
            "namespace_id": id_,
        }
        return ReadResult(id_, outs, self.inputs(outs))

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        """PUT the new name and description (code and type unchanged)."""
        self._put(self.label(news), id_, news)
        return UpdateResult(self._outs(news, id_, adopted=bool(olds.get("adopted"))))

    def delete(self, id_: str, props: Props) -> None:
        """Nothing to call: AEP keeps identity namespaces for good (identities already stored refer to them)."""
        pulumi.log.info(
            f"{self.label(props)} (code {props.get('code')}) is left in AEP: identity namespaces cannot be deleted; "
            "a later stack adopts it by its code"
        )


class IdentityNamespace(Resource, module="aep", name="IdentityNamespace"):
    """A custom identity namespace (e.g. the Customer.io person id). Adopted by code when the org has it already;
    kept in AEP on destroy. Standard namespaces (Email, Phone, ECID) need no resource."""

    namespace_id: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    """True when the namespace existed already and this stack took it over."""

    def __init__(
        self,
        resource_name: str,
        *,
        code: pulumi.Input[str],
        name: pulumi.Input[str],
        id_type: pulumi.Input[str] = "CROSS_DEVICE",
        description: pulumi.Input[str] = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            IdentityNamespaceProvider(),
            resource_name,
            {
                "code": code,
                "name": name,
                "id_type": id_type,
                "description": description,
                "namespace_id": None,
                "adopted": None,
            },
            opts,
        )
