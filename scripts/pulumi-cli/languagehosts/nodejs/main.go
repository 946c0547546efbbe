// Command pulumi-language-nodejs runs Pulumi programs written in TypeScript or JavaScript for the engine.
//
// Pulumi's own host (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not served by the Go module
// proxy, so it cannot be built here. This host speaks the same LanguageRuntime contract for what a program's life
// needs, as Pulumi's does it: the program runs on the real SDK, the `run` entry point of the program's own
// @pulumi/pulumi (TypeScript through the ts-node that SDK ships), with the same arguments and environment; the
// packages a program needs are the node_modules packages that declare a plugin; `pulumi install` runs the project's
// package manager; `pulumi package gen-sdk` and `pulumi package add` use Pulumi's TypeScript code generator and link
// the SDK as Pulumi's host links it. Left out: Pulumi's monitor proxy and its files for synchronous invokes (only
// the deprecated synchronous invoke of old SDKs uses them), the debugger, bun, fnm and Pack.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/shlex"
	codegen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/fsutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"local/pulumi-cli/languagehosts/hostkit"
)

const name = "pulumi-language-nodejs"

// bailExitCode is what the SDK exits with after it has shown the user an actionable message.
const bailExitCode = 32

type host struct {
	hostkit.Base
}

func main() {
	hostkit.Serve(name, func(base hostkit.Base) pulumirpc.LanguageRuntimeServer {
		return &host{base}
	})
}

// options are the runtime options of Pulumi.yaml that Pulumi's Node.js host reads.
type options struct {
	typescript     bool
	tsconfig       string
	nodeargs       string
	packagemanager npm.PackageManagerType
	production     bool
}

func parseOptions(info *pulumirpc.ProgramInfo) (options, error) {
	opts := options{typescript: true, packagemanager: npm.AutoPackageManager}
	if info == nil || info.Options == nil {
		return opts, nil
	}
	given := info.Options.AsMap()
	manager := ""
	for _, err := range []error{
		option(given, "typescript", "true or false", &opts.typescript),
		option(given, "production", "true or false", &opts.production),
		option(given, "tsconfig", "a string", &opts.tsconfig),
		option(given, "nodeargs", "a string", &opts.nodeargs),
		option(given, "packagemanager", "a string", &manager),
	} {
		if err != nil {
			return opts, err
		}
	}
	switch manager {
	case "", "auto":
	case "npm", "yarn", "pnpm", "bun":
		opts.packagemanager = npm.PackageManagerType(manager)
	default:
		return opts, fmt.Errorf("the runtime option packagemanager must be auto, npm, yarn, pnpm or bun, not %q", manager)
	}
	return opts, nil
}

// option reads one runtime option into `into` when Pulumi.yaml gives it; `kind` names the type it must have.
func option[T any](given map[string]any, key, kind string, into *T) error {
	if v, ok := given[key]; ok {
		value, isKind := v.(T)
		if !isKind {
			return fmt.Errorf("the runtime option %s must be %s", key, kind)
		}
		*into = value
	}
	return nil
}

// GetRequiredPackages lists the packages under the program's node_modules whose package.json declares a resource
// plugin ({"pulumi": {"resource": true}}), following links (a linked local SDK is one) but never a folder twice.
func (h *host) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := packagesIn(req.Info.ProgramDirectory, false, map[string]bool{})
	if err != nil {
		// As Pulumi's host: what was found is the answer; an unreadable folder does not fail the program.
		fmt.Fprintf(os.Stderr, "%s: while listing the program's packages: %v\n", name, err)
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// packageJSON is what a package's package.json says about its Pulumi plugin.
type packageJSON struct {
	Name    string                  `json:"name"`
	Version string                  `json:"version"`
	Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
}

func packagesIn(dir string, inNodeModules bool, seen map[string]bool) ([]*pulumirpc.PackageDependency, error) {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil || seen[dir] {
		return nil, err
	}
	seen[dir] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var found []*pulumirpc.PackageDependency
	var errs []error
	for _, entry := range entries {
		path := filepath.Join(dir, entry.Name())
		isDir := entry.IsDir()
		if entry.Type()&fs.ModeSymlink != 0 {
			info, err := os.Stat(path)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			isDir = info.IsDir()
		}
		if isDir {
			more, err := packagesIn(path, inNodeModules || filepath.Base(dir) == "node_modules", seen)
			found = append(found, more...)
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if !inNodeModules || entry.Name() != "package.json" {
			continue
		}
		dependency, err := pluginOf(path)
		if err != nil {
			errs = append(errs, err)
		} else if dependency != nil {
			found = append(found, dependency)
		}
	}
	return found, errors.Join(errs...)
}

// pluginOf reads the plugin a package.json declares (nil when none), named and versioned as Pulumi's host names it.
func pluginOf(path string) (*pulumirpc.PackageDependency, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var info packageJSON
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !info.Pulumi.Resource {
		return nil, nil
	}
	pluginName := info.Pulumi.Name
	if pluginName == "" {
		after, scoped := strings.CutPrefix(info.Name, "@pulumi/")
		if !scoped {
			return nil, fmt.Errorf("%s: a package outside @pulumi/ names its plugin in pulumi.name", path)
		}
		pluginName = after
	}
	version := info.Pulumi.Version
	if version == "" {
		version = info.Version
	}
	if version == "" {
		return nil, fmt.Errorf("%s: no version", path)
	}
	return hostkit.Dependency(pluginName, version, info.Pulumi.Server, info.Pulumi.Parameterization), nil
}

// Run runs the program with node and the `run` entry point of the program's @pulumi/pulumi.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	opts, err := parseOptions(req.Info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not find node on the $PATH: %v", err)}, nil
	}
	runPath, err := locate(ctx, node, req.Info.ProgramDirectory)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	configJSON, secretKeysJSON, err := configOf(req)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	args, err := shlex.Split(opts.nodeargs)
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("the runtime option nodeargs: %v", err)}, nil
	}
	args = append(args, runPath)
	flag := func(key, value string) {
		if value != "" {
			args = append(args, "--"+key, value)
		}
	}
	flag("monitor", req.MonitorAddress)
	flag("engine", h.EngineAddress)
	flag("organization", req.Organization)
	flag("project", req.Project)
	flag("root-directory", req.Info.RootDirectory)
	flag("stack", req.Stack)
	flag("pwd", req.Info.ProgramDirectory)
	if req.DryRun {
		args = append(args, "--dry-run")
	}
	flag("parallel", strconv.Itoa(int(req.Parallel)))
	args = append(append(args, req.Info.EntryPoint), req.Args...)

	env := append(os.Environ(), "PULUMI_CONFIG="+configJSON, "PULUMI_CONFIG_SECRET_KEYS="+secretKeysJSON)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = req.Pwd
	cmd.Env = env
	// Node may make its stdout non-blocking: a wrapper keeps os.Stdout out of its hands, as in Pulumi's host.
	cmd.Stdout, cmd.Stderr = struct{ *os.File }{os.Stdout}, struct{ *os.File }{os.Stderr}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the program with %s: %v", node, err)}, nil
		}
		if exitErr.ExitCode() == bailExitCode {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// locate finds the SDK's `run` entry point as node resolves it from the program's folder.
func locate(ctx context.Context, node, programDir string) (string, error) {
	const module = "@pulumi/pulumi/cmd/run"
	script := `try { console.log(require.resolve("` + module + `")); } catch (error) { ` +
		`console.error(error.code === "MODULE_NOT_FOUND" ? ` +
		`"It looks like the Pulumi SDK has not been installed. Have you run pulumi install?" : error.message); ` +
		`process.exit(1); }`
	cmd := exec.CommandContext(ctx, node, "-e", script)
	cmd.Dir = programDir
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", errors.New(strings.TrimSpace(string(exitErr.Stderr)))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// configOf is the program's configuration as the SDK reads it: keys as `<namespace>:config:<name>`, which every
// @pulumi/pulumi version reads, and the list of the secret ones.
func configOf(req *pulumirpc.RunRequest) (string, string, error) {
	values := make(map[string]string, len(req.Config))
	for key, value := range req.Config {
		parsed, err := config.ParseKey(key)
		if err != nil {
			return "", "", err
		}
		values[parsed.Namespace()+":config:"+parsed.Name()] = value
	}
	secretKeys := req.ConfigSecretKeys
	if secretKeys == nil {
		secretKeys = []string{}
	}
	configJSON, err := json.Marshal(values)
	if err != nil {
		return "", "", err
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	return string(configJSON), string(secretKeysJSON), err
}

// InstallDependencies installs the program's (or a plugin's) packages with its package manager, from the root of the
// npm or yarn workspace it belongs to, if any.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	opts, err := parseOptions(req.Info)
	if err != nil {
		return err
	}
	root := req.Info.ProgramDirectory
	if workspace, err := npm.FindWorkspaceRoot(root); err == nil {
		fmt.Fprintf(stdout, "Detected workspace root at %s\n", workspace)
		root = workspace
	} else if !errors.Is(err, npm.ErrNotInWorkspace) {
		return fmt.Errorf("failure while trying to find workspace root: %w", err)
	}
	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	if _, err := npm.Install(server.Context(), opts.packagemanager, root, opts.production, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// GetProgramDependencies lists the program's packages as its package manager reports them (`pulumi about`).
func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := parseOptions(req.Info)
	if err != nil {
		return nil, err
	}
	manager, err := npm.ResolvePackageManager(opts.packagemanager, req.Info.ProgramDirectory)
	if err != nil {
		return nil, err
	}
	packages, err := manager.ListPackages(ctx, req.Info.ProgramDirectory, req.TransitiveDependencies)
	if err != nil {
		return nil, fmt.Errorf("failed to get node dependencies: %w", err)
	}
	answer := &pulumirpc.GetProgramDependenciesResponse{}
	for _, p := range packages {
		answer.Dependencies = append(answer.Dependencies, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return answer, nil
}

// GeneratePackage writes a package's TypeScript SDK with Pulumi's generator (`pulumi package gen-sdk --language
// nodejs`); a local SDK (`pulumi package add`) is compiled by its own install script.
func (h *host) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return hostkit.GeneratePackage(req, func(pkg *schema.Package, loader schema.ReferenceLoader) (hostkit.Files, error) {
		return codegen.GeneratePackage(name, pkg, req.ExtraFiles, req.LocalDependencies, req.Local, loader)
	})
}

// Link adds each generated SDK to the program's package.json as a `file:` dependency (with its install script
// allowed), as Pulumi's host does, and says how to import it.
func (h *host) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	opts, err := parseOptions(req.Info)
	if err != nil {
		return nil, err
	}
	manager, err := npm.ResolvePackageManager(opts.packagemanager, req.Info.ProgramDirectory)
	if err != nil {
		return nil, err
	}
	// Pulumi's Node.js host links no local build of @pulumi/pulumi either.
	linked, _, err := hostkit.LinkedPackages(ctx, req, "nodejs", codegen.Importer)
	if err != nil {
		return nil, err
	}
	typescript := opts.typescript || opts.tsconfig != ""
	if _, err := fsutil.Searchup(req.Info.ProgramDirectory, "tsconfig.json"); err == nil {
		typescript = true
	}
	instructions := "You can import the SDK in your JavaScript code with:\n\n"
	if typescript {
		instructions = "You can import the SDK in your TypeScript code with:\n\n"
	}
	for _, l := range linked {
		packageName := "@pulumi/" + l.Package.Name
		if info, ok := l.Package.Language["nodejs"].(codegen.NodePackageInfo); ok && info.PackageName != "" {
			packageName = info.PackageName
		} else if l.Package.Namespace != "" {
			packageName = "@" + l.Package.Namespace + "/" + l.Package.Name
		}
		if err := manager.Link(ctx, req.Info.ProgramDirectory, packageName, l.Path); err != nil {
			return nil, err
		}
		importName := camel(l.Package.Name)
		if typescript {
			instructions += fmt.Sprintf("  import * as %s from \"%s\";\n", importName, packageName)
		} else {
			instructions += fmt.Sprintf("  const %s = require(\"%s\");\n", importName, packageName)
		}
	}
	return &pulumirpc.LinkResponse{ImportInstructions: instructions}, nil
}

// camel makes a package name an identifier: customerio-aep -> customerioAep.
func camel(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}
