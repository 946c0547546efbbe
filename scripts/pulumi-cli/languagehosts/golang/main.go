// Command pulumi-language-go runs Pulumi programs written in Go for the engine.
//
// Pulumi's own host (github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3) is not served by the Go module proxy, so
// it cannot be built here. This host speaks the same LanguageRuntime contract for what a program's life needs, as
// Pulumi's does it: it builds the program with `go build` and runs it with the engine's addresses and the
// configuration in the environment Pulumi's Go SDK reads; the packages a program needs are the required modules
// that ship a pulumi-plugin.json; `pulumi install` is `go mod tidy`; `pulumi package gen-sdk` and `pulumi package
// add` use Pulumi's Go code generator and link the SDK with a replace directive, as Pulumi's host does. Left out: the
// `binary` and `buildTarget` options, `go run`, the debugger, vendored modules and Pack.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/blang/semver"
	codegen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/constant"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/mod/modfile"

	"local/pulumi-cli/languagehosts/hostkit"
)

const name = "pulumi-language-go"

type host struct {
	hostkit.Base
}

func main() {
	hostkit.Serve(name, func(base hostkit.Base) pulumirpc.LanguageRuntimeServer {
		return &host{base}
	})
}

// module is what `go list -m -json` says of a module.
type module struct {
	Path, Version, Dir string
}

// GetRequiredPackages lists the modules the program's go.mod requires that ship a pulumi-plugin.json declaring a
// resource plugin (at the module's root, in go/, or one folder down), as Pulumi's host finds them.
func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	answer := &pulumirpc.GetRequiredPackagesResponse{}
	modDir, gomod, err := loadGomod(req.Info.ProgramDirectory)
	if err != nil || len(gomod.Require) == 0 {
		return answer, nil // as Pulumi's host: a program outside a module needs nothing it can tell
	}
	paths := make([]string, 0, len(gomod.Require))
	for _, r := range gomod.Require {
		paths = append(paths, r.Mod.Path)
	}
	modules, err := goJSON(ctx, modDir, append([]string{"list", "-m", "-json"}, paths...))
	if err != nil {
		return answer, nil
	}
	var missing []string
	for _, m := range modules {
		if m.Dir == "" {
			missing = append(missing, m.Path)
		}
	}
	if len(missing) > 0 {
		downloaded, err := goJSON(ctx, modDir, append([]string{"mod", "download", "-json"}, missing...))
		if err == nil {
			dirs := map[string]string{}
			for _, m := range downloaded {
				dirs[m.Path] = m.Dir
			}
			for i := range modules {
				if modules[i].Dir == "" {
					modules[i].Dir = dirs[modules[i].Path]
				}
			}
		}
	}
	for _, m := range modules {
		if dependency := pluginOf(m); dependency != nil {
			answer.Packages = append(answer.Packages, dependency)
		}
	}
	return answer, nil
}

func pluginOf(m module) *pulumirpc.PackageDependency {
	if m.Dir == "" {
		return nil
	}
	candidates := []string{filepath.Join(m.Dir, "pulumi-plugin.json"), filepath.Join(m.Dir, "go", "pulumi-plugin.json")}
	for _, pattern := range []string{
		filepath.Join(m.Dir, "go", "*", "pulumi-plugin.json"), filepath.Join(m.Dir, "*", "pulumi-plugin.json"),
	} {
		found, _ := filepath.Glob(pattern)
		candidates = append(candidates, found...)
	}
	for _, candidate := range candidates {
		manifest, err := plugin.LoadPulumiPluginJSON(candidate)
		if err != nil || manifest == nil || !manifest.Resource {
			continue
		}
		pluginName := manifest.Name
		if pluginName == "" {
			// github.com/pulumi/pulumi-aws/sdk/... names aws
			parts := strings.Split(m.Path, "/")
			if len(parts) < 3 || !strings.Contains(parts[2], "-") {
				return nil
			}
			pluginName = strings.SplitN(parts[2], "-", 2)[1]
		}
		version := m.Version
		if manifest.Version != "" {
			version = manifest.Version
		}
		if _, err := semver.ParseTolerant(version); err != nil {
			return nil
		}
		return hostkit.Dependency(pluginName, version, manifest.Server, manifest.Parameterization)
	}
	return nil
}

// goJSON runs a go command that prints a stream of module objects and decodes them.
func goJSON(ctx context.Context, dir string, args []string) ([]module, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w", strings.Join(args[:2], " "), err)
	}
	var modules []module
	for decoder := json.NewDecoder(bytes.NewReader(out)); decoder.More(); {
		var m module
		if err := decoder.Decode(&m); err != nil {
			return nil, err
		}
		modules = append(modules, m)
	}
	return modules, nil
}

// loadGomod finds the go.mod of the module the program is in (perhaps a parent folder) and parses it.
func loadGomod(programDir string) (string, *modfile.File, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.GoMod}}")
	cmd.Env = append(os.Environ(), "GOWORK=off") // the program's own module, not every module of a workspace
	cmd.Dir = programDir
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list -m: %w", err)
	}
	gomodPath := strings.TrimSpace(string(out))
	if gomodPath == "" {
		return "", nil, fmt.Errorf("no go.mod file found for %s", programDir)
	}
	body, err := os.ReadFile(gomodPath)
	if err != nil {
		return "", nil, err
	}
	parsed, err := modfile.Parse(gomodPath, body, nil)
	if err != nil {
		return "", nil, err
	}
	return filepath.Dir(gomodPath), parsed, nil
}

// Run builds the program into a temporary file and runs it, passing what the engine says in the environment that
// Pulumi's Go SDK reads (pulumi.Run).
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if h.EngineAddress == "" {
		return nil, errors.New("when debugging or running explicitly, must call Handshake before Run")
	}
	env, err := environment(req, h.EngineAddress)
	if err != nil {
		return nil, fmt.Errorf("failed to prepare environment: %w", err)
	}
	program, err := build(req.Info.ProgramDirectory)
	if err != nil {
		return nil, err
	}
	defer os.Remove(program)
	cmd := exec.CommandContext(ctx, program)
	cmd.Dir = req.Pwd
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return &pulumirpc.RunResponse{Error: err.Error()}, nil
		}
		if exitErr.ExitCode() == constant.ExitStatusLoggedError {
			return &pulumirpc.RunResponse{Bail: true}, nil // the program has told the engine what went wrong
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// build compiles the program's package into a temporary executable, with the flags Pulumi's host uses.
func build(programDir string) (string, error) {
	if found, _ := filepath.Glob(filepath.Join(programDir, "*.go")); len(found) == 0 {
		return "", fmt.Errorf("Failed to find go files for 'go build' matching %s", filepath.Join(programDir, "*.go"))
	}
	f, err := os.CreateTemp("", "pulumi-go.*")
	if err != nil {
		return "", err
	}
	out := f.Name()
	if err := f.Close(); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", out, "-trimpath", "-ldflags", "-w -s")
	cmd.Dir = programDir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		os.Remove(out)
		return "", fmt.Errorf("error in compiling Go: unable to run `go build`: %w", err)
	}
	return out, nil
}

// environment is the process environment with what pulumi.Run reads from it.
func environment(req *pulumirpc.RunRequest, engineAddress string) ([]string, error) {
	env := os.Environ()
	add := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	if req.Config != nil {
		configJSON, err := json.Marshal(req.Config)
		if err != nil {
			return nil, err
		}
		add(pulumi.EnvConfig, string(configJSON))
	}
	secretKeys := req.ConfigSecretKeys
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	add(pulumi.EnvOrganization, req.Organization)
	add(pulumi.EnvProject, req.Project)
	add(pulumi.EnvPulumiRootDirectory, req.Info.RootDirectory)
	add(pulumi.EnvStack, req.Stack)
	add(pulumi.EnvConfigSecretKeys, string(secretKeysJSON))
	add(pulumi.EnvDryRun, strconv.FormatBool(req.DryRun))
	add(pulumi.EnvParallel, strconv.Itoa(int(req.Parallel)))
	add(pulumi.EnvMonitor, req.MonitorAddress)
	add(pulumi.EnvEngine, engineAddress)
	return env, nil
}

// InstallDependencies is `go mod tidy` in the program's folder, as in Pulumi's host.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	cmd := exec.CommandContext(server.Context(), "go", "mod", "tidy", "-compat=1.18")
	cmd.Dir = req.Info.ProgramDirectory
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("`go mod tidy` failed to install dependencies: %w", err)
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// GeneratePackage writes a package's Go SDK with Pulumi's generator (`pulumi package gen-sdk --language go`).
func (h *host) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	if len(req.ExtraFiles) > 0 {
		return nil, errors.New("overlays are not supported for Go")
	}
	return hostkit.GeneratePackage(req, func(pkg *schema.Package, _ schema.ReferenceLoader) (hostkit.Files, error) {
		return codegen.GeneratePackage(name, pkg, req.LocalDependencies)
	})
}

// Link points the program's go.mod at each generated SDK with a replace directive, as Pulumi's host does, and says
// how to import it; the program's next `pulumi install` (go mod tidy) requires it.
func (h *host) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	linked, pulumiSDK, err := hostkit.LinkedPackages(ctx, req, "go", codegen.Importer)
	if err != nil {
		return nil, err
	}
	replacements := map[string]string{}
	if pulumiSDK != "" {
		replacements["github.com/pulumi/pulumi/sdk/v3"] = pulumiSDK
	}
	instructions := "You can import the SDK in your Go code with:\n\n  import (\n"
	for _, l := range linked {
		modulePath, importPath := "", codegen.ExtractImportBasePath(l.Package.Reference())
		if info, ok := l.Package.Language["go"].(codegen.GoPackageInfo); ok {
			modulePath = info.ModulePath
			if info.ImportBasePath != "" {
				importPath = info.ImportBasePath // the path a program imports, which the schema names
				if modulePath == "" {
					modulePath = path.Dir(info.ImportBasePath)
				}
			}
		}
		if modulePath == "" {
			modulePath = codegen.ExtractModulePath(l.Package.Reference())
		}
		replacement := l.Path
		if !filepath.IsAbs(replacement) && !strings.HasPrefix(replacement, "./") && !strings.HasPrefix(replacement, "../") {
			replacement = "./" + replacement // a relative replacement must start with ./ (go.dev/ref/mod)
		}
		replacements[modulePath] = replacement
		instructions += fmt.Sprintf("    %q\n", importPath)
	}
	instructions += "  )\n"
	gomodPath := filepath.Join(req.Info.ProgramDirectory, "go.mod")
	stat, err := os.Stat(gomodPath)
	if err != nil {
		return nil, err
	}
	body, err := os.ReadFile(gomodPath)
	if err != nil {
		return nil, err
	}
	gomod, err := modfile.Parse(gomodPath, body, nil)
	if err != nil {
		return nil, fmt.Errorf("go.mod parse: %w", err)
	}
	for modulePath, replacement := range replacements {
		if err := gomod.AddReplace(modulePath, "", replacement, ""); err != nil {
			return nil, fmt.Errorf("could not add replace statement: %w", err)
		}
	}
	data, err := gomod.Format()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(gomodPath, data, stat.Mode().Perm()); err != nil {
		return nil, err
	}
	return &pulumirpc.LinkResponse{ImportInstructions: instructions}, nil
}
