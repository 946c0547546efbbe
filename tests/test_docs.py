"""The documentation holds together: every relative link resolves, every section a file cites exists, every
configuration key is documented exactly once, and the reference tables are the declarations they describe.
`python -m tests.test_docs --write` writes the tables again after a declaration changes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from customerio_aep.package.schema import (
    COMPONENT_INPUTS,
    COMPONENT_OUTPUTS,
    CONFIG,
    CONFIG_KEYS,
    PACKAGE,
    RESOURCES,
    Prop,
    schema,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIGURATION = ROOT / "docs" / "installation-configuration.md"
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
CITATION = re.compile(
    r"""(README|CONTRIBUTING|docs/[\w.-]+?)(?:\.md)?(?:'s)?,?\s+(?:section\s+)?["'“]([^"'”\n]+)["'”]"""
)
PAGE_PATH = re.compile(r"\bdocs/[\w.-]+\.md\b")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HISTORY = {"CHANGELOG.md"}
"""Files that record what was true when they were written: a section renamed since is not a broken citation there."""
UNDECLARED_KEYS = {"signingKey": "signing_key", "previousSigningKey": "previous_signing_key",
                   "dataUsageLabels": "data_usage_labels"}  # fmt: skip
"""Keys this project's program reads that Pulumi.yaml cannot declare (a declared key without a default is required,
and these have none), with the component argument each one sets."""
RENAMED_KEYS = {"adoptReportingWebhookId": "adopt_reporting_webhook_id"}
"""Keys whose name is not the component argument's camelCase."""


def _tracked() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / n for n in names if n not in HISTORY and not n.startswith("tests/contracts/")]


def _texts() -> Iterator[tuple[Path, str]]:
    for path in _tracked():
        try:
            yield path, path.read_text()
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue


def slug(heading: str) -> str:
    """A heading's anchor, as GitHub and the Pulumi Registry make it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(page: Path) -> list[str]:
    """A page's section headings."""
    return [m.group(1).strip() for m in re.finditer(r"^#{1,4} (.+)$", page.read_text(), re.M)]


def _page(cited: str) -> Path:
    return ROOT / f"{cited}.md"


def _cites(page: Path, section: str) -> bool:
    """A section is cited by its heading, or by the heading's part before a colon ("Other languages")."""
    return page.is_file() and any(h == section or h.startswith(f"{section}:") for h in headings(page))


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in PAGES:
        for match in LINK.finditer(page.read_text()):
            target = match.group(1)
            if re.match(r"[a-z]+:", target):
                continue  # an address outside the repository
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in {slug(h) for h in headings(resolved)}:
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such section)")
    assert broken == []


def test_every_section_and_page_a_file_cites_exists() -> None:
    broken = []
    for path, text in _texts():
        for match in CITATION.finditer(text):
            if not _cites(_page(match.group(1)), match.group(2)):
                line = text.count("\n", 0, match.start()) + 1
                broken.append(f"{path.relative_to(ROOT)}:{line} cites {match.group(1)}, {match.group(2)!r}")
        for match in PAGE_PATH.finditer(text):
            if not (ROOT / match.group(0)).is_file():
                broken.append(f"{path.relative_to(ROOT)} cites {match.group(0)}")
    assert broken == []


def test_no_file_cites_the_reference_notes_outside_the_repository() -> None:
    """A comment leaning on a vendor's behaviour cites the vendor's page; our notes are not in this repository."""
    notes = re.compile(r"reference/?\s?(aep|customerio)\.md|§\d")  # the notes' files, or their sections
    citing = [str(p.relative_to(ROOT)) for p, text in _texts() if notes.search(text)]
    assert citing == []


def configuration_keys() -> list[str]:
    """Every key a stack sets: this project's (Pulumi.yaml and those it cannot declare), the Python program's
    provider settings (`aep:`, `customerio:`) and the package provider's (`customerio-aep:`)."""
    project = list(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]) + list(UNDECLARED_KEYS)
    return project + list(CONFIG_KEYS.values()) + [f"{PACKAGE}:{p.schema_name}" for p in CONFIG]


def test_every_configuration_key_is_documented_exactly_once() -> None:
    """In the tables of the two configuration sections: a key's row names it in its first cells."""
    text = CONFIGURATION.read_text().partition("## Stack configuration")[2].partition("## The component's")[0]
    cells = [cell for row in text.splitlines() if row.startswith("| `") for cell in row.split("|")[1:3]]
    documented = Counter(key for cell in cells for key in re.findall(r"`([^`]+)`", cell))
    assert {k: documented[k] for k in configuration_keys() if documented[k] != 1} == {}


def test_every_project_key_is_a_component_argument_of_the_same_type() -> None:
    """This project's keys set the component's arguments of the same name: one name in every door."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    inputs = {p.name: p for p in COMPONENT_INPUTS}
    names = {key: RENAMED_KEYS.get(key, UNDECLARED_KEYS.get(key, _snake(key))) for key in [*declared, *UNDECLARED_KEYS]}
    assert {key: name for key, name in names.items() if name not in inputs} == {}
    assert {p.schema_name for p in COMPONENT_INPUTS if p.name in RENAMED_KEYS.values()} == set(RENAMED_KEYS)
    # Pulumi.yaml has no `number` type: a number argument is declared as an integer there.
    project_type = {"string": "string", "boolean": "boolean", "array": "array", "object": "object", "integer": "number"}
    mismatched = {
        key: (spec["type"], inputs[names[key]].type.get("type"))
        for key, spec in declared.items()
        if project_type[spec["type"]] != str(inputs[names[key]].type.get("type")).replace("integer", "number")
    }
    assert mismatched == {}


def test_every_schema_description_is_written() -> None:
    """What an IDE and the Registry show for each resource, property, argument, output, type and setting."""
    spec = json.loads(schema("0.0.0"))
    blank = [r.token for r in RESOURCES if not r.description.strip()]
    blank += [f"{r.token}.{p.name}" for r in RESOURCES for p in (*r.inputs, *r.outputs) if not p.description.strip()]
    blank += [p.name for p in (*COMPONENT_INPUTS, *COMPONENT_OUTPUTS, *CONFIG) if not p.description.strip()]
    blank += [f"{name}.{prop}" for name, t in spec["types"].items() for prop, p in t["properties"].items()
              if not str(p.get("description", "")).strip()]  # fmt: skip
    assert blank == []


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type(prop: Prop) -> str:
    spec = prop.type
    if spec.get("type") == "array":
        kind = f"list of {_kind(spec['items'])}"
    elif spec.get("type") == "object" and "additionalProperties" in spec:
        kind = f"map of {_kind(spec['additionalProperties'])}"
    else:
        kind = _kind(spec)
    return kind + (", secret" if prop.secret else "")


def _kind(spec: dict[str, Any]) -> str:
    ref = str(spec.get("$ref", ""))
    return str(spec.get("type") or ("any" if ref.endswith("/Any") else ref.rsplit(":", 1)[-1]))


def tables() -> dict[str, str]:
    """The reference tables of installation-configuration.md, made from the declarations."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    inputs = {p.name: p for p in COMPONENT_INPUTS}
    stack = ["| key | type (default) | meaning |", "|---|---|---|"]
    for key, spec in declared.items():
        default = spec.get("default")
        shown = f" (`{json.dumps(default).strip(chr(34))}`)" if default not in (None, "", [], {}) else ""
        stack.append(f"| `{key}` | {spec['type']}{shown} | {_cell(spec.get('description', ''))} |")
    for key, name in UNDECLARED_KEYS.items():
        stack.append(f"| `{key}` | {_type(inputs[name])} | {_cell(inputs[name].description)} |")
    settings = ["| Python program | other languages | type | meaning |", "|---|---|---|---|"]
    for prop in CONFIG:
        keys = f"`{CONFIG_KEYS[prop.name]}` | `{PACKAGE}:{prop.schema_name}`"
        settings.append(f"| {keys} | {_type(prop)} | {_cell(prop.description)} |")
    arguments = ["| Python | other languages | type | meaning |", "|---|---|---|---|"]
    arguments += [f"| `{p.name}` | `{p.schema_name}` | {_type(p)} | {_cell(p.description)} |" for p in COMPONENT_INPUTS]
    outputs = ["| Python | other languages | type | meaning |", "|---|---|---|---|"]
    outputs += [f"| `{p.name}` | `{p.schema_name}` | {_type(p)} | {_cell(p.description)} |" for p in COMPONENT_OUTPUTS]
    return {
        "stack-config": "\n".join(stack),
        "provider-settings": "\n".join(settings),
        "component-inputs": "\n".join(arguments),
        "component-outputs": "\n".join(outputs),
    }


def _with_tables(text: str) -> str:
    for name, table in tables().items():
        start = f"<!-- generated: {name} (python -m tests.test_docs --write) -->\n"
        end = f"<!-- end: {name} -->"
        head, found, rest = text.partition(start)
        assert found, f"installation-configuration.md has no marker for {name}"
        text = head + start + table + "\n" + end + rest.partition(end)[2]
    return text


def test_the_reference_tables_are_the_declarations() -> None:
    """When this fails, run `python -m tests.test_docs --write`."""
    assert CONFIGURATION.read_text() == _with_tables(CONFIGURATION.read_text())


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        CONFIGURATION.write_text(_with_tables(CONFIGURATION.read_text()))
    else:
        sys.exit("usage: python -m tests.test_docs --write")
