"""`python -m customerio_aep review` on the real CLI's `pulumi preview --json` (this project, on the emulator): a
vocabulary switch with labels shown as records and labels; a dataset move shown as data at risk; a refused preview
named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulators.aep import AepEmulator
from tests.engine.harness import Stack
from tests.engine.templates import StackTemplates


def review(stack: Stack, tmp_path: Path) -> str:
    preview = tmp_path / "preview.json"
    preview.write_text(stack.run("preview", "--json", check=False).stdout)
    result = stack.command("review", str(preview))
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.xdist_group("direct")  # the template it starts from (tests/engine/templates.py)
def test_a_vocabulary_switch_and_new_labels_read_as_records_and_labels(
    stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path
) -> None:
    stack = stack_templates.deployed("direct", tmp_path)
    stack.set_config("eventTypes", "customerio")
    stack.set_config("dataUsageLabels", '["I1", "C2"]')
    text = review(stack, tmp_path)
    assert "None: no dataset, queue or bucket that holds events is replaced or deleted." in text
    assert "- MappingSet `cio-aep-mapping` updated in place: `mappings`" in text
    assert "- `cio-aep-labels`: added C2, I1" in text
    assert '| **`eventType`** | "directMarketing.emailSent" | "customerio.email.sent" | changes |' in text
    assert "and 33 more: 1 field changes" in text
    assert aep.client_secret not in text and "clientSecret" not in text


@pytest.mark.xdist_group("direct")
def test_a_refused_preview_is_named_first(stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path) -> None:
    stack = stack_templates.deployed("direct", tmp_path)
    stack.set_config("extraFields.plan", "string", path=True)
    stack.up()
    stack.set_config("extraFields.plan", "integer", path=True)
    risk = review(stack, tmp_path).split("### ")[1]
    assert risk.startswith("Data at risk\n- :no_entry: the preview refused: ")
    assert "resource 'cio-aep-schema' has a problem: fields: field 'plan' is string in AEP and cannot become" in risk


@pytest.mark.xdist_group("aep_only")
def test_moving_to_another_dataset_puts_the_old_one_at_risk(
    stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path
) -> None:
    stack = stack_templates.deployed("aep_only", tmp_path)
    stack.set_config("secondDataset", "true")
    text = review(stack, tmp_path)
    assert text.split("### ")[1].split("\n")[1:3] == [
        "- :warning: **AEP dataset `dataset` is deleted**: any events it holds go with it",
        "",
    ]
    assert "- TargetConnection `target` replaced (because of `dataset_id`)" in text
    assert "- Dataset `dataset-2` created" in text
