"""Drives the real Pulumi CLI (built by scripts/setup) on a program copied into a temporary project."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tests.emulators.aep import AepEmulator

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "programs"
ENGINE_VENV = ROOT / ".tools" / "engine-venv"
WHEELS = ROOT / ".tools" / "wheels"
OFFLINE = {
    "PIP_NO_INDEX": "1",
    "PIP_FIND_LINKS": str(WHEELS),
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "npm_config_cache": str(ROOT / ".tools" / "npm-cache"),
    "npm_config_offline": "true",
    "npm_config_audit": "false",
    "npm_config_fund": "false",
    "npm_config_update_notifier": "false",
    "GOPROXY": "off",
}
"""What keeps the package managers the CLI starts (pip for the plugin, npm, go) on what scripts/setup --dev fetched:
a test calls nothing but loopback."""
SECRET_KEYS = ("aep:clientSecret", "customerio:appApiKey", "signingKey")
_LEAVES_OUTPUTS = frozenset({"preview", "config", "version"})
"""CLI commands that never change a stack's outputs."""


def cli_env(home: Path) -> dict[str, str]:
    """This environment with the CLI scripts/setup built first on PATH, its own Pulumi home, no update check, and the
    package managers it starts kept offline (OFFLINE)."""
    env = dict(os.environ)
    env.update(
        PATH=f"{cli_bin()}{os.pathsep}{env.get('PATH', '')}",
        PULUMI_HOME=str(home),
        PULUMI_SKIP_UPDATE_CHECK="true",
        **OFFLINE,
        GOFLAGS=f"{env.get('GOFLAGS', '')} -mod=mod".strip(),  # `go mod tidy` and builds may fill in go.sum
    )
    return env


def cli_bin() -> Path:
    """The directory holding `pulumi` and its Python plugins, as scripts/setup chose it."""
    marker = ROOT / ".tools" / "pulumi-bin"
    if not marker.exists():
        raise RuntimeError("No Pulumi CLI set up: run `scripts/setup --dev` (or `make test`) first")
    return Path(marker.read_text().strip())


@dataclass
class Stack:
    """One stack of a test program on a file backend in a temporary directory."""

    workdir: Path
    name: str = "test"
    package: Path | None = None
    """Where the CLI's processes import `customerio_aep` from, when not this checkout (an earlier release)."""
    _outputs: dict[bool, dict[str, Any]] = field(default_factory=dict, repr=False)
    """`stack output` by show_secrets, until a command that can change the state runs (each CLI start costs CPU)."""
    secrets_provider: ClassVar[str | None] = None
    """`stack init --secrets-provider` of the stacks made from now on: the engine tests' KMS emulator (their
    conftest); None, the passphrase, as on a user's file backend (the demo, the acceptance suite)."""

    @classmethod
    def create(cls, program: str, tmp: Path, aep: AepEmulator, config: Mapping[str, str] | None = None) -> Stack:
        """Copy `programs/<program>` into tmp with a Pulumi.yaml on the engine venv; a stack on the emulator (and
        `config`)."""
        workdir = tmp / program
        shutil.copytree(PROGRAMS / program, workdir)
        (workdir / "Pulumi.yaml").write_text(
            f"name: {program.replace('_', '-')}\nruntime:\n  name: python\n  options:\n    virtualenv: {ENGINE_VENV}\n"
        )
        stack = cls(workdir)
        stack.init({**aep.stack_config(), **(config or {})})
        return stack

    @classmethod
    def create_project(
        cls, tmp: Path, aep: AepEmulator, config: Mapping[str, str], release: Path | None = None
    ) -> Stack:
        """This project itself (its Pulumi.yaml and __main__.py) on the engine venv, a stack on the emulator; or, with
        `release`, the project as an earlier release's tree (from the repository's history) has it, its package
        imported instead of this checkout's."""
        workdir = tmp / "project"
        workdir.mkdir()
        stack = cls(workdir)
        stack._install(release or ROOT)
        stack.init({**aep.stack_config(), **config})
        return stack

    def install_current(self) -> None:
        """Put this checkout's program and package over the project, as a user upgrading to it does."""
        self._install(ROOT)

    def _install(self, tree: Path) -> None:
        shutil.copy(tree / "__main__.py", self.workdir)
        project = (tree / "Pulumi.yaml").read_text()
        assert "virtualenv: venv\n" in project, "Pulumi.yaml no longer names venv/; update the harness"
        (self.workdir / "Pulumi.yaml").write_text(project.replace("virtualenv: venv\n", f"virtualenv: {ENGINE_VENV}\n"))
        self.package = None if tree == ROOT else tree / "components"

    def init(self, config: Mapping[str, str], secret: Collection[str] = SECRET_KEYS) -> None:
        """`pulumi stack init` on the local backend beside the project, then set config (`secret` keys encrypted)."""
        (self.workdir.parent / "state").mkdir(exist_ok=True)
        provider = Stack.secrets_provider
        self.run("stack", "init", self.name, *(["--secrets-provider", provider] if provider else []))
        if config:
            self.configure(config, secret=secret)

    def configure(self, config: Mapping[str, str], path: bool = False, secret: Collection[str] = SECRET_KEYS) -> None:
        """`pulumi config set-all`: every key in one CLI start (each costs half a second of CPU), `secret` keys
        encrypted, `path` to read keys as paths into structured values."""
        pairs = [arg for key, value in config.items() for arg in ("--secret" if key in secret else "--plaintext",
                                                                   f"{key}={value}")]  # fmt: skip
        self.run("config", "set-all", *(["--path"] if path else []), *pairs)

    def copy(self, tmp: Path) -> Stack:
        """This stack's project, state and Pulumi home copied into tmp, its outputs already known: the same stack, to
        change without touching this one."""
        shutil.copytree(self.workdir.parent, tmp, symlinks=True, dirs_exist_ok=True)
        stack = Stack(tmp / self.workdir.name, self.name, self.package)
        stack._outputs = copy.deepcopy(self._outputs)
        return stack

    def env(self) -> dict[str, str]:
        """The CLI's environment: local state, no prompts, no plugin downloads."""
        env = cli_env(self.workdir.parent / "home")
        env.update(
            PULUMI_BACKEND_URL=f"file://{self.workdir.parent / 'state'}",
            PULUMI_CONFIG_PASSPHRASE="",
            # The stack by name, not by the selection the Pulumi home keeps for the project's path: a copy in another
            # directory is the same stack without a `stack select` (a CLI start).
            PULUMI_STACK=self.name,
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        )
        env.pop("PULUMI_ACCESS_TOKEN", None)
        if Stack.secrets_provider is not None:
            # The KMS emulator's key, and no other AWS credentials, files or instance metadata for the CLI to find.
            for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION"):
                env.pop(name, None)
            env.update(AWS_ACCESS_KEY_ID="engine-tests", AWS_SECRET_ACCESS_KEY="engine-tests",
                       AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                       AWS_EC2_METADATA_DISABLED="true")  # fmt: skip
        if self.package is not None:
            env["PYTHONPATH"] = str(self.package)  # ahead of the engine venv's editable install of this checkout
            env.pop("COVERAGE_PROCESS_START", None)  # an earlier release's code is not this checkout's to measure
        return env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `pulumi <args>` non-interactively in the project."""
        if args[0] not in _LEAVES_OUTPUTS and args[:2] != ("stack", "output"):
            self._outputs.clear()
        result = subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            check=False,
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def up(self, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`pulumi up --yes --skip-preview`."""
        return self.run("up", "--yes", "--skip-preview", check=check)

    def preview(self) -> dict[str, Any]:
        """`pulumi preview --json`: the change summary, e.g. {'same': 7}."""
        result = self.run("preview", "--json")
        summary: dict[str, Any] = json.loads(result.stdout)["changeSummary"]
        return summary

    def preview_steps(self) -> list[dict[str, Any]]:
        """`pulumi preview --json`: the planned steps (op, urn, diffReasons, replaceReasons)."""
        steps: list[dict[str, Any]] = json.loads(self.run("preview", "--json").stdout).get("steps", [])
        return steps

    def refresh(self, expect_no_changes: bool = False) -> subprocess.CompletedProcess[str]:
        """`pulumi refresh --yes`; with expect_no_changes, it fails if AEP differs from the state in anything."""
        return self.run("refresh", "--yes", "--skip-preview", *(["--expect-no-changes"] if expect_no_changes else []))

    def destroy(self) -> subprocess.CompletedProcess[str]:
        """`pulumi destroy --yes`."""
        return self.run("destroy", "--yes", "--skip-preview")

    def outputs(self, show_secrets: bool = False) -> dict[str, Any]:
        """Stack outputs (a copy: the caller may change it)."""
        if show_secrets not in self._outputs:
            args = ["stack", "output", "--json"] + (["--show-secrets"] if show_secrets else [])
            self._outputs[show_secrets] = json.loads(self.run(*args).stdout)
        return copy.deepcopy(self._outputs[show_secrets])

    def state_text(self) -> str:
        """Every file of the backend, concatenated (to search for leaked secrets)."""
        state = self.workdir.parent / "state"
        return "\n".join(p.read_text(errors="replace") for p in state.rglob("*") if p.is_file())

    def set_config(self, key: str, value: str, path: bool = False) -> None:
        """`pulumi config set` (`--path` for a key inside a structured value)."""
        self.run("config", "set", *(["--path"] if path else []), key, value)

    def command(self, *args: str, python: Path = ENGINE_VENV / "bin" / "python") -> subprocess.CompletedProcess[str]:
        """`python -m customerio_aep <args>` in the project, with the stack's CLI environment (as a user runs it)."""
        return subprocess.run(
            [str(python), "-m", "customerio_aep", *args],
            cwd=self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def preview_ops(self) -> dict[str, str]:
        """`pulumi preview --json`: each planned step's op by resource name, e.g. {'cio-aep-schema': 'update'}."""
        return {s["urn"].rsplit("::", 1)[1]: s["op"] for s in self.preview_steps()}


def plugin_copy(into: Path) -> Path:
    """This checkout's provider plugin with the package's source, copied into `into` without any virtualenv (the Python
    language host makes one, as for a user) and installable offline (`without_aws`). Returns the plugin's folder."""
    for name in ("provider", "components"):
        shutil.copytree(ROOT / name, into / name, ignore=shutil.ignore_patterns("venv", "__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, into / name)
    return without_aws(into / "provider")


def without_aws(plugin: Path) -> Path:
    """The plugin's requirements without pulumi-aws: with it, the CLI would fetch the AWS provider plugin, which this
    machine cannot reach (the README says what that leaves unproven here)."""
    requirements = plugin / "requirements.txt"
    lines = requirements.read_text().splitlines()
    assert "pulumi-aws==7.51.1" in lines and "..[aws]" in lines  # what a user's install gets
    requirements.write_text("\n".join(line.replace("..[aws]", "..") for line in lines if "pulumi-aws" not in line))
    return plugin
