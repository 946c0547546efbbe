"""The package's TypeScript and Go SDKs, generated from its schema by Pulumi's own code generators
(scripts/pulumi-cli/gensdk: `pulumi package gen-sdk` would need the Node.js and Go language hosts, which cannot be
built here), compile: the TypeScript SDK and a program using the component with `tsc` against @pulumi/pulumi from
npm, the Go SDK and a program with `go build` against Pulumi's Go SDK. Offline: scripts/setup --dev fetched both."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from customerio_aep.package import package_version
from customerio_aep.package.schema import schema
from tests.engine.harness import ROOT

CHECK = ROOT / "scripts" / "sdk-check"
TYPESCRIPT_PROGRAM = """import * as cio from "./index";

const integration = new cio.CustomerIoToAep("cio", { ingress: "direct", namePrefix: "team", dataUsageLabels: ["I1"] });
const dataset = new cio.aep.DatasetLabels("labels", { datasetId: integration.datasetId, labels: ["I2"] });
export const webhookUrl = integration.webhookUrl;
export const labels = dataset.allLabels;
"""
GO_PROGRAM = """package main

import (
\t"customerio-aep/sdk/go/customerioaep"
\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
\tpulumi.Run(func(ctx *pulumi.Context) error {
\t\tintegration, err := customerioaep.NewCustomerIoToAep(ctx, "cio", &customerioaep.CustomerIoToAepArgs{
\t\t\tIngress:    pulumi.StringPtr("direct"),
\t\t\tNamePrefix: pulumi.StringPtr("team"),
\t\t})
\t\tif err != nil {
\t\t\treturn err
\t\t}
\t\tctx.Export("webhookUrl", integration.WebhookUrl)
\t\treturn nil
\t})
}
"""


def run(*args: str, cwd: Path, **env: str) -> None:
    result = subprocess.run(args, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=600,
                            check=False)  # fmt: skip
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"


def generate(tmp: Path) -> Path:
    (tmp / "schema.json").write_text(schema(package_version()))
    offline = {"GOPROXY": "off", "GOFLAGS": "-mod=readonly"}
    run("go", "build", "-o", str(tmp / "gensdk"), "./gensdk", cwd=ROOT / "scripts" / "pulumi-cli", **offline)
    run(str(tmp / "gensdk"), str(tmp / "schema.json"), str(tmp / "sdk"), cwd=tmp)
    return tmp / "sdk"


def test_the_typescript_and_go_sdks_and_programs_using_them_compile(tmp_path: Path) -> None:
    sdk = generate(tmp_path)

    nodejs = sdk / "nodejs"
    (nodejs / "node_modules").symlink_to(ROOT / ".tools" / "sdk-nodejs" / "node_modules")
    (nodejs / "program.ts").write_text(TYPESCRIPT_PROGRAM)
    tsconfig = (nodejs / "tsconfig.json").read_text()
    (nodejs / "tsconfig.json").write_text(tsconfig.replace('"files": [', '"files": [\n        "program.ts",', 1))
    run(str(nodejs / "node_modules" / ".bin" / "tsc"), "-p", ".", cwd=nodejs)
    assert (nodejs / "bin" / "program.js").exists() and (nodejs / "bin" / "customerIoToAep.d.ts").exists()

    module = sdk / "go" / "customerioaep"
    for name in ("go.mod", "go.sum"):
        (module / name).write_text((CHECK / "go" / name).read_text())
    (module / "cmd").mkdir()
    (module / "cmd" / "main.go").write_text(GO_PROGRAM)
    offline = {"GOPROXY": "off", "GOFLAGS": "-mod=readonly"}
    run("go", "vet", "./...", cwd=module, **offline)  # builds every package of the SDK, and checks them
    run("go", "build", "-o", str(tmp_path / "program"), "./cmd", cwd=module, **offline)
    assert (tmp_path / "program").exists()
