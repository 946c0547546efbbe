"""The base every AEP dynamic provider shares: configuration, check, diff, and error-tolerant helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, CreateResult, DiffResult, ResourceProvider
from pulumi.output import Unknown

from customerio_aep.aep.adoption import flow_parts
from customerio_aep.aep.client import AepClient, client_for
from customerio_aep.aep.errors import AepApiError, AepConfigError, DataSafetyError
from customerio_aep.aep.preflight import preflight_problem
from customerio_aep.aep.settings import AepSettings
from customerio_aep.failures import input_failure, short_tracebacks

Props = dict[str, Any]


def is_unknown(value: Any) -> bool:
    """Whether a value is not yet known (during preview)."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


class AepProvider(ResourceProvider):
    """Base of the AEP providers. Credentials arrive through `configure()`, so none is ever pickled."""

    # The pickle holds no secret (credentials come from configure), so skip encrypting it per resource.
    serialize_as_secret_always = False
    kind: ClassVar[str] = "AEP object"
    update_fields: ClassVar[tuple[str, ...]] = ()
    replace_fields: ClassVar[tuple[str, ...]] = ()
    required_fields: ClassVar[tuple[str, ...]] = ()
    # Inputs added in a later release: state written before them compares as if it held these values.
    input_defaults: ClassVar[dict[str, Any]] = {}
    # Inputs that live in the state only: changing them calls no AEP API (so needs no preview check of AEP).
    state_only_fields: ClassVar[tuple[str, ...]] = ()
    # The FlowParts field naming this resource's object in a Customer.io dataflow (for `adopt_flow_id`).
    flow_part: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        short_tracebacks(cls, (AepApiError, AepConfigError, DataSafetyError))

    def configure(self, req: ConfigureRequest) -> None:
        """Read the `aep:*` stack configuration (decrypted by the engine, never stored in state). A problem with it
        is kept for `check` to report as one line, rather than raised here with a traceback."""
        try:
            self._settings: AepSettings | None = AepSettings.from_config(req.config.get)
            self._config_problem: str | None = None
        except AepConfigError as e:
            self._settings, self._config_problem = None, str(e)

    @property
    def client(self) -> AepClient:
        """The shared client for the configured org and sandbox."""
        settings: AepSettings | None = getattr(self, "_settings", None)
        if settings is None:
            raise AepConfigError(
                getattr(self, "_config_problem", None)
                or "AEP configuration was not provided; set aep:clientId, aep:clientSecret, aep:orgId and "
                "aep:sandbox in the stack configuration"
            )
        return client_for(settings)

    def label(self, props: Mapping[str, Any]) -> str:
        """How errors name the object, e.g. `Dataflow 'cio-aep-flow'`."""
        return f"{self.kind} {props.get('name') or props.get('title') or ''!r}"

    # -- check / diff -------------------------------------------------------------------------------------
    def check(self, olds: Props, news: Props) -> CheckResult:
        """Validate inputs before any API call (values not known yet are skipped); when the resource is to change,
        check once per run that the AEP credential, org and sandbox work, so a preview fails early and clearly."""
        failures = [
            input_failure(f, "is required")
            for f in self.required_fields
            if not is_unknown(news.get(f)) and news.get(f) in (None, "")
        ]
        failures += [input_failure(f, reason) for f, reason in self.validate(news) if not is_unknown(news.get(f))]
        failures += [input_failure(f, reason) for f, reason in self.refused_transitions(olds, news)]
        changes_aep = [f for f in self.changed_fields(olds, news) if f not in self.state_only_fields]
        if not failures and (not olds or changes_aep):
            problem = getattr(self, "_config_problem", None) or preflight_problem(self.client)
            if problem:
                failures.append(CheckFailure("", problem))
        return CheckResult(news, failures)

    def validate(self, news: Props) -> list[tuple[str, str]]:
        """Resource-specific input checks: (field, reason) pairs."""
        return []

    def refused_transitions(self, olds: Props, news: Props) -> list[tuple[str, str]]:
        """Changes AEP cannot make from `olds` (the previous inputs in `check`, the stored outputs in `diff`):
        (field, reason) pairs, reported before any call."""
        return []

    def diff(self, id_: str, olds: Props, news: Props) -> DiffResult:
        """Only real input changes count; fields the API cannot update in place force replacement; a change AEP
        cannot make is refused, and so is a replacement while the inputs still say to adopt."""
        refused = self.refused_transitions(olds, news)
        if refused:
            raise DataSafetyError(f"{self.label(news)}: " + "; ".join(f"{f}: {reason}" for f, reason in refused))
        changed = self.changed_fields(olds, news)
        replaces = [f for f in changed if f in self.replace_fields]
        if replaces and (news.get("adopt_id") or news.get("adopt_flow_id")):
            raise DataSafetyError(
                f"{self.label(news)}: changing {', '.join(replaces)} replaces the adopted object {id_}, and the "
                "replacement would adopt that same object again before deleting it. Nothing was changed: remove "
                "the adoption (config keys adoptFlowId / adoptReportingWebhookId) with a `pulumi up` first, then make "
                "the change"
            )
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def changed_fields(self, olds: Props, news: Props) -> list[str]:
        """The input fields whose values differ (a value not known yet counts as changed)."""
        return [
            f
            for f in self.update_fields + self.replace_fields
            if _differs(olds.get(f, self.input_defaults.get(f)), news.get(f, self.input_defaults.get(f)))
        ]

    # -- create or adopt -------------------------------------------------------------------------------------
    def create(self, props: Props) -> CreateResult:
        """Create the object; or, with `adopt_id` (or `adopt_flow_id`), adopt the existing one in place."""
        adopted = self.adopted_id(props)
        return self.create_new(props) if adopted is None else self.adopt(adopted, props)

    def create_new(self, props: Props) -> CreateResult:
        """Make a new object in AEP."""
        raise NotImplementedError

    def adopted_id(self, props: Props) -> str | None:
        """The id of the existing object to adopt: `adopt_id`, or this resource's part of `adopt_flow_id`."""
        if props.get("adopt_id"):
            return str(props["adopt_id"])
        if props.get("adopt_flow_id") and self.flow_part:
            return str(getattr(flow_parts(self.client, self.label(props), props["adopt_flow_id"]), self.flow_part))
        return None

    def adopt(self, object_id: str, props: Props) -> CreateResult:
        """Read the object and bring it to the inputs in place. Nothing is created."""
        live = self.read(object_id, props)
        if not live.id or live.outs is None:
            raise AepConfigError(
                f"{self.label(props)}: cannot adopt {object_id!r}: no such {self.kind} in this sandbox"
            )
        return self.take_over(object_id, live.outs, props)

    def take_over(self, object_id: str, live: Props, props: Props) -> CreateResult:
        """Refuse what AEP cannot change in place on the adopted object (read as `live`), update the rest."""
        refused = self.refused_transitions(live, props) + [
            (f, f"is {live.get(f)!r} on the adopted object and AEP cannot change it in place")
            for f in self.changed_fields(live, props)
            if f in self.replace_fields
        ]
        if refused:
            raise DataSafetyError(
                f"{self.label(props)}: cannot adopt {object_id}: " + "; ".join(f"{f}: {r}" for f, r in refused)
            )
        if not self.changed_fields(live, props):
            return CreateResult(object_id, live)
        return CreateResult(object_id, self.update(object_id, live, props).outs)

    # -- helpers for subclasses -------------------------------------------------------------------------------
    def inputs(self, props: Mapping[str, Any]) -> Props:
        """The input fields of props (what `read` reports back as inputs)."""
        return {f: props.get(f) for f in self.update_fields + self.replace_fields if f in props}


# The base's own operations (create, diff) drop this package's frames too.
short_tracebacks(AepProvider, (AepApiError, AepConfigError, DataSafetyError))


def adoption_inputs(adopt_id: Any, adopt_flow_id: Any) -> Props:
    """The adoption inputs every AEP resource takes (read by `create` only; never a change afterwards)."""
    return {"adopt_id": adopt_id, "adopt_flow_id": adopt_flow_id}


def replace_ops(olds: Props, news: Props, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """JSON Patch `replace` operations for the text fields that differ (absent counts as empty)."""
    return [
        {"op": "replace", "path": f"/{f}", "value": news.get(f) or ""}
        for f in fields
        if (olds.get(f) or "") != (news.get(f) or "")
    ]


def _differs(old: Any, new: Any) -> bool:
    if is_unknown(new):
        return True
    empty: tuple[Any, ...] = (None, "", [], {})
    if old in empty and new in empty:
        return False
    return bool(old != new)
