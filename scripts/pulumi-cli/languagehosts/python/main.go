// Command pulumi-language-python is a minimal Python language host for the Pulumi engine.
//
// Pulumi's own host lives in the Go module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3,
// which is untagged and not served by the Go module proxy, so it cannot be built offline. This host speaks
// the same LanguageRuntime gRPC contract for what a program's and a plugin's life needs, as Pulumi's does it: it
// resolves the project's virtualenv from the runtime options, reports the Pulumi packages installed in it (so plugin
// acquisition behaves the same), runs the program through `pulumi-language-python-exec` (the script shipped in the
// Pulumi SDK module, placed next to this binary by scripts/setup), makes a program's or a plugin's virtualenv with
// Pulumi's own toolchain code (InstallDependencies), runs plugins written in Python (RunPlugin), and generates and
// links SDKs with Pulumi's Python code generator (`pulumi package gen-sdk`, `pulumi package add`). Left out: About,
// GetProgramDependencies, the debugger, program generation and Pack.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	codegen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"

	"local/pulumi-cli/languagehosts/hostkit"
)

const name = "pulumi-language-python"

// Exit code the exec script uses after it has already shown the user an actionable message.
const bailExitCode = 32

// listPackagesScript prints the Pulumi resource plugins that installed distributions declare.
const listPackagesScript = `
import json, importlib.metadata as md
found = []
for dist in md.distributions():
    for f in dist.files or []:
        if f.name == "pulumi-plugin.json":
            try:
                meta = json.loads(f.read_text())
            except Exception:
                continue
            if meta.get("resource"):
                found.append({"name": meta.get("name") or dist.metadata["Name"],
                              "version": meta.get("version") or dist.version,
                              "server": meta.get("server") or ""})
print(json.dumps(found))
`

type host struct {
	hostkit.Base
	execScript string
}

func main() {
	self, err := os.Executable()
	if err != nil {
		hostkit.Exit(name, err)
	}
	execScript := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	if _, err := os.Stat(execScript); err != nil {
		hostkit.Exit(name, fmt.Errorf("%s is missing next to the language host; rerun scripts/setup", execScript))
	}
	hostkit.Serve(name, func(base hostkit.Base) pulumirpc.LanguageRuntimeServer {
		return &host{Base: base, execScript: execScript}
	})
}

// options reads the runtime options Pulumi's host reads: the virtualenv (relative to the root directory) and the
// toolchain (pip unless poetry or uv is named). A plugin without a virtualenv gets `venv`, as in Pulumi's host: a
// plugin never runs in the ambient Python.
func options(info *pulumirpc.ProgramInfo, plugin bool) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Toolchain: toolchain.Pip}
	if info == nil {
		return opts, nil
	}
	opts.Root, opts.ProgramDir = info.RootDirectory, info.ProgramDirectory
	if info.Options != nil {
		given := info.Options.AsMap()
		if v, ok := given["virtualenv"].(string); ok {
			opts.Virtualenv = v
		}
		switch name, _ := given["toolchain"].(string); name {
		case "", "pip":
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		case "uv":
			opts.Toolchain = toolchain.Uv
		default:
			return opts, fmt.Errorf("unsupported toolchain option %q (pip, poetry or uv)", name)
		}
	}
	if plugin && opts.Toolchain == toolchain.Pip && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	return opts, nil
}

// python returns the interpreter for a program or plugin and the virtualenv it belongs to ("" when none).
func python(info *pulumirpc.ProgramInfo, plugin bool) (string, string, error) {
	opts, err := options(info, plugin)
	if err != nil {
		return "", "", err
	}
	venv := opts.Virtualenv
	if venv != "" && !filepath.IsAbs(venv) {
		venv = filepath.Join(opts.Root, venv)
	}
	if venv == "" {
		cmd := os.Getenv("PULUMI_PYTHON_CMD")
		if cmd == "" {
			cmd = "python3"
		}
		return cmd, "", nil
	}
	bin := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(bin); err != nil {
		return "", "", fmt.Errorf("the virtualenv %q does not exist; `pulumi install` makes it", venv)
	}
	return bin, venv, nil
}

// InstallDependencies makes the virtualenv of a program or plugin and installs its requirements, with the code of
// Pulumi's SDK that Pulumi's own Python host calls for this (github.com/pulumi/pulumi/sdk/v3/python/toolchain).
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	opts, err := options(req.Info, req.IsPlugin)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	if err := tc.InstallDependencies(server.Context(), req.Info.GetProgramDirectory(), req.UseLanguageVersionTools,
		true /*showOutput*/, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

func environ(venv string, extra ...string) []string {
	env := os.Environ()
	if venv != "" {
		env = append(env, "VIRTUAL_ENV="+venv, "PATH="+filepath.Join(venv, "bin")+
			string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	return append(env, extra...)
}

func (h *host) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := h.GetRequiredPackages(ctx, &pulumirpc.GetRequiredPackagesRequest{Info: req.Info})
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(pkgs.Packages))
	for _, p := range pkgs.Packages {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	bin, venv, err := python(req.Info, false)
	if err != nil {
		return nil, err
	}
	found, complete := pluginManifests(venv)
	if !complete {
		cmd := exec.CommandContext(ctx, bin, "-c", listPackagesScript)
		cmd.Env = environ(venv)
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("listing the Pulumi packages installed for %s: %w", bin, err)
		}
		if err := json.Unmarshal(out, &found); err != nil {
			return nil, fmt.Errorf("reading the Pulumi package list: %w", err)
		}
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, f := range found {
		resp.Packages = append(resp.Packages, hostkit.Dependency(f.Name, f.Version, f.Server, nil))
	}
	return resp, nil
}

// pluginManifest is what a provider SDK's pulumi-plugin.json declares.
type pluginManifest struct {
	Resource              bool
	Name, Version, Server string
}

// pluginManifests reads the pulumi-plugin.json at the top of each package in the virtualenv's one site-packages
// folder, where provider SDKs ship it, instead of starting Python to list them (a process less for every operation).
// complete is false when only Python can tell: no virtualenv, one that also sees the system's packages, not exactly
// one site-packages folder, or a manifest that leaves its name or version to the package's metadata.
func pluginManifests(venv string) (found []pluginManifest, complete bool) {
	if venv == "" {
		return nil, false
	}
	cfg, err := os.ReadFile(filepath.Join(venv, "pyvenv.cfg"))
	if err != nil || strings.Contains(strings.ReplaceAll(string(cfg), " ", ""), "include-system-site-packages=true") {
		return nil, false
	}
	sites, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages"))
	windows, _ := filepath.Glob(filepath.Join(venv, "Lib", "site-packages"))
	if sites = append(sites, windows...); len(sites) != 1 {
		return nil, false
	}
	files, err := filepath.Glob(filepath.Join(sites[0], "*", "pulumi-plugin.json"))
	if err != nil {
		return nil, false
	}
	for _, file := range files {
		var m pluginManifest
		data, err := os.ReadFile(file)
		if err != nil || json.Unmarshal(data, &m) != nil || !m.Resource {
			continue // as the Python listing skips a manifest it cannot read
		}
		if m.Name == "" || m.Version == "" {
			return nil, false
		}
		found = append(found, m)
	}
	return found, true
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	bin, venv, err := python(req.Info, false)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	// Nil collections would marshal to null, which the exec script cannot read.
	configMap, secretList := req.Config, req.ConfigSecretKeys
	if configMap == nil {
		configMap = map[string]string{}
	}
	if secretList == nil {
		secretList = []string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(secretList)
	if err != nil {
		return nil, err
	}
	program := "."
	root := req.Pwd
	if req.Info != nil {
		root = req.Info.RootDirectory
		if req.Info.EntryPoint != "" && req.Info.EntryPoint != "." {
			program = filepath.Join(req.Info.ProgramDirectory, req.Info.EntryPoint)
		} else if req.Info.ProgramDirectory != "" {
			program = req.Info.ProgramDirectory
		}
	} else if req.Program != "" {
		program = req.Program
	}
	args := []string{"-u", h.execScript,
		"--monitor", req.MonitorAddress,
		"--engine", h.EngineAddress,
		"--project", req.Project,
		"--stack", req.Stack,
		"--pwd", req.Pwd,
		"--dry_run", fmt.Sprint(req.DryRun),
		"--parallel", fmt.Sprint(req.Parallel),
		"--root_directory", root,
	}
	if req.Organization != "" {
		args = append(args, "--organization", req.Organization)
	}
	args = append(args, program)
	args = append(args, req.Args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = req.Pwd
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = environ(venv, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", bin, err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a plugin written in Python (a folder with PulumiPlugin.yaml and __main__.py) in its virtualenv,
// streaming its output to the engine, which reads the port a provider prints first.
func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	bin, venv, err := python(req.Info, true)
	if err != nil {
		return err
	}
	program := req.Program //nolint:staticcheck // the engines before ProgramInfo send only this
	if req.Info != nil {
		program = req.Info.ProgramDirectory
		if req.Info.EntryPoint != "" && req.Info.EntryPoint != "." {
			program = filepath.Join(req.Info.ProgramDirectory, req.Info.EntryPoint)
		}
	}
	var sending sync.Mutex // the process's stdout and stderr are copied by two goroutines
	send := func(out *pulumirpc.RunPluginResponse) error {
		sending.Lock()
		defer sending.Unlock()
		return server.Send(out)
	}
	cmd := exec.CommandContext(server.Context(), bin, append([]string{"-u", program}, req.Args...)...)
	cmd.Dir = req.Pwd
	cmd.Env = append(environ(venv), req.Env...)
	// When the engine is done with the plugin it cancels the call: ask the plugin to stop (SIGTERM, as Pulumi's own
	// plugin hosts do, so it can finish what it writes, such as coverage data) before killing it.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdout = streamTo(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	})
	cmd.Stderr = streamTo(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	})
	code := 0
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("could not run the plugin %s with %s: %w", program, bin, err)
		}
		code = exitErr.ExitCode()
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

// streamTo is an io.Writer handing each write (a copy: the caller reuses its buffer) to send.
type streamTo func([]byte) error

func (s streamTo) Write(b []byte) (int, error) {
	if err := s(append([]byte(nil), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// GeneratePackage writes a package's Python SDK with Pulumi's generator (`pulumi package gen-sdk --language python`).
func (h *host) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return hostkit.GeneratePackage(req, func(pkg *schema.Package, loader schema.ReferenceLoader) (hostkit.Files, error) {
		return codegen.GeneratePackage(name, pkg, req.ExtraFiles, loader)
	})
}

// Link installs each generated SDK into the program's environment as its toolchain links a local package (pip: an
// editable requirement in requirements.txt), as Pulumi's host does, and says how to import it.
func (h *host) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	opts, err := options(req.Info, false)
	if err != nil {
		return nil, err
	}
	linked, pulumiSDK, err := hostkit.LinkedPackages(ctx, req, "python", codegen.Importer)
	if err != nil {
		return nil, err
	}
	packages := map[string]string{}
	if pulumiSDK != "" {
		packages["pulumi"] = pulumiSDK
	}
	instructions := "You can import the SDK in your Python code with:\n\n"
	for _, l := range linked {
		importName := strings.ReplaceAll(l.Package.Name, "-", "_")
		packageName := codegen.PyPack(l.Package.Namespace, l.Package.Name)
		if info, ok := l.Package.Language["python"].(codegen.PackageInfo); ok && info.PackageName != "" {
			importName, packageName = info.PackageName, info.PackageName
		}
		packages[packageName] = l.Path
		instructions += fmt.Sprintf("  import %s as %s\n", packageName, importName)
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.LinkPackages(ctx, packages); err != nil {
		return nil, fmt.Errorf("linking packages: %w", err)
	}
	return &pulumirpc.LinkResponse{ImportInstructions: instructions}, nil
}
