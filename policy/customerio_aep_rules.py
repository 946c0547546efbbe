"""The pack's rules as plain functions of resources (type and inputs) and the pack's config: each returns the
violations, one line each naming the resource, the rule and the fix. `__main__.py` hands them to pulumi-policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULTS: dict[str, dict[str, Any]] = {
    "production-never-force-destroys": {"productionSandboxes": ["prod"]},
    "datasets-are-labelled": {"labels": ["I1"]},
    "profile-in-production-is-buffered": {"productionSandboxes": ["prod"]},
    "within-streaming-share": {"shares": {}},
}
"""Each rule's config and its defaults; `--policy-pack-config` overrides them."""
UNKNOWN = "<known after up>"
"""An input a preview does not know yet (an id AEP makes at up): a rule that needs it passes until it is known."""
SANDBOX_KEYS = ("aep:sandbox", "customerio-aep:sandbox")
"""Where a stack names its sandbox: the Python program's `aep` settings, or the package's provider."""
BUDGET_KEY = "customerio-aep:streamingThroughput"
"""Where this project's own program takes its streaming budget (another language's program passes the component's
`streamingThroughput` input, which the rules read from the component)."""
STACK_KEYS = (*SANDBOX_KEYS, BUDGET_KEY)
"""The stack configuration the rules read; the pack keeps nothing else (the engine sends secrets decrypted)."""
DEFAULT_BUDGETS = {"profile": 1_500, "data lake": 4_000}
"""A stack's budget when it sets none (customerio_aep.ingress.budget; a test holds the two equal)."""


@dataclass(frozen=True)
class Resource:
    """A resource of the stack: its type token (its own, without its parents'), name and inputs."""

    type: str
    name: str
    props: Mapping[str, Any]

    @property
    def kind(self) -> str:
        """The type's last part (`Dataset`), whichever form: a dynamic resource, the package's, pulumi-aws's."""
        return self.type.rsplit(":", 1)[-1]

    @property
    def ours(self) -> bool:
        """Whether it is one of this module's AEP or Customer.io resources."""
        return self.type.startswith(("pulumi-python:dynamic/aep:", "pulumi-python:dynamic/customerio:",
                                     "customerio-aep:"))  # fmt: skip

    def get(self, snake: str) -> Any:
        """An input by its Python name or the package's camelCase one."""
        head, *rest = snake.split("_")
        return self.props.get(snake, self.props.get(head + "".join(p.title() for p in rest)))


def sandbox(config: Mapping[str, str]) -> str | None:
    """The sandbox the stack targets, from its configuration."""
    return next((config[k] for k in SANDBOX_KEYS if config.get(k)), None)


def never_force_destroy(resource: Resource, stack: Mapping[str, str], config: Mapping[str, Any]) -> list[str]:
    """A dataset (or the component) in a production sandbox may not set forceDestroy."""
    sandbox_name = sandbox(stack)
    if (
        not resource.ours
        or sandbox_name not in config["productionSandboxes"]
        or resource.get("force_destroy") is not True
    ):
        return []
    return [
        f"{resource.kind} '{resource.name}' sets forceDestroy in production sandbox '{sandbox_name}': a destroy or "
        "a replacement could delete the events it holds. Remove it (`pulumi config rm forceDestroy`, or "
        "force_destroy=False)"
    ]


def labelled(resources: Sequence[Resource], stack: Mapping[str, str], config: Mapping[str, Any]) -> list[str]:
    """A stack that lands events in a dataset carries the configured data usage labels on it."""
    required = list(config["labels"])
    if not required or not any(r.ours and r.kind in ("Dataset", "TargetConnection") for r in resources):
        return []
    if any(r.get("labels") == UNKNOWN for r in resources if r.ours and r.kind == "DatasetLabels"):
        return []
    carried = set().union(*(set(_strings(r.get("labels"))) for r in resources if r.ours and r.kind == "DatasetLabels"))
    missing = [label for label in required if label not in carried]
    if not missing:
        return []
    wanted = sorted(carried | set(required))
    return [
        f"the dataset lacks data usage label{'s' if len(missing) > 1 else ''} {', '.join(missing)}: its events hold "
        f"emails and phone numbers. Set them: pulumi config set dataUsageLabels '{_json(wanted)}' (component "
        f"argument data_usage_labels, package input dataUsageLabels)"
    ]


def profile_buffered(resources: Sequence[Resource], stack: Mapping[str, str], config: Mapping[str, Any]) -> list[str]:
    """A Profile stack in a production sandbox goes through the aws ingress (a queue holds what Profile cannot take)."""
    sandbox_name = sandbox(stack)
    if sandbox_name not in config["productionSandboxes"]:
        return []
    profile = [r for r in resources if r.ours and r.kind == "Dataset" and r.get("profile_enabled") is True]
    if not profile or any(r.type == "aws:sqs/queue:Queue" for r in resources):
        return []
    return [
        f"Dataset '{profile[0].name}' is on Profile in production sandbox '{sandbox_name}' without the aws ingress: "
        "a campaign's burst goes straight to AEP's streaming capacity. Set ingress to aws (pulumi config set "
        "ingress aws)"
    ]


def within_share(resources: Sequence[Resource], stack: Mapping[str, str], config: Mapping[str, Any]) -> list[str]:
    """The stack streams within the sandbox's share of the org's streaming capacity: its forwarders' pace when it has
    them (the aws ingress), else the budget it declares, which history's streaming road and the forwarders keep to."""
    sandbox_name = sandbox(stack)
    share = config["shares"].get(sandbox_name) if sandbox_name else None
    if share is None or not any(r.ours for r in resources):
        return []
    found = _forwarders_rate(resources) or _declared_budget(resources, stack)
    if found is None:
        return []
    rate, source = found
    if rate <= share:
        return []
    return [
        f"{source} {rate:,.0f} records/s, above sandbox '{sandbox_name}''s share of {share:,.0f}: set "
        f"streamingThroughput to {share:g} or less (pulumi config set streamingThroughput {share:g}; component "
        "argument streaming_throughput, package input streamingThroughput)"
    ]


def _forwarders_rate(resources: Sequence[Resource]) -> tuple[float, str] | None:
    concurrency = next((r.props.get("scalingConfig", {}).get("maximumConcurrency") for r in resources
                        if r.type == "aws:lambda/eventSourceMapping:EventSourceMapping"), None)  # fmt: skip
    paces = (r.props.get("environment", {}).get("variables", {}).get("PACE_PER_SECOND") for r in resources
             if r.type == "aws:lambda/function:Function")  # fmt: skip
    pace = next((p for p in paces if p is not None), None)  # the forwarder's: the receiver has no pace
    if concurrency is None or pace is None or UNKNOWN in (concurrency, pace):
        return None
    return float(int(concurrency) * int(pace)), "the forwarders stream up to"


def _declared_budget(resources: Sequence[Resource], stack: Mapping[str, str]) -> tuple[float, str] | None:
    # The package's component carries its inputs; the Python component registers none, its program reads config.
    inputs = (r.get("streaming_throughput") for r in resources if r.ours and r.kind == "CustomerIoToAep")
    given = next((v for v in inputs if v is not None), stack.get(BUDGET_KEY))
    if given == UNKNOWN:
        return None
    try:
        declared = float(given or 0)  # 0, this project's config default, means "the default"
    except (TypeError, ValueError):
        return None  # the component refuses it at preview, naming the key
    if declared:
        return declared, "the stack's streaming budget (streamingThroughput) is"
    profile = any(r.ours and r.kind == "Dataset" and r.get("profile_enabled") is True for r in resources)
    road = "profile" if profile else "data lake"
    return float(DEFAULT_BUDGETS[road]), f"the stack's streaming budget (the {road} default, no streamingThroughput) is"


def _strings(value: Any) -> Iterable[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _json(values: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"
