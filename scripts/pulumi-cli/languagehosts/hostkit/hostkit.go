// Package hostkit holds what this project's language hosts share: serving the LanguageRuntime, the handshake with the
// engine, and the SDK generation and linking steps of `pulumi package gen-sdk` and `pulumi package add`, written as
// Pulumi's own hosts do them (sdk/*/cmd/pulumi-language-* in pulumi/pulumi), with the code generators of Pulumi's pkg
// module. Each host adds what its language does differently.
package hostkit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Base answers the calls every host answers alike; a host embeds the one Serve gives it.
type Base struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	EngineAddress string
	stopping      context.Context
	stop          context.CancelFunc
}

// Serve registers the host, prints its port for the engine (which reads it first) and serves until the engine stops
// it: with SIGINT, or by going away.
func Serve(name string, newHost func(base Base) pulumirpc.LanguageRuntimeServer) {
	engineAddress := ""
	for _, arg := range os.Args[1:] {
		if !strings.HasPrefix(arg, "-") {
			engineAddress = arg
			break
		}
	}
	// Once done with a host, the engine sends it SIGINT and kills it 5 s later if it still runs: the host stops serving
	// at once, as Pulumi's own hosts do. (Ours kept serving: each command waited 5 s for it at its end, and the engine's
	// kill raced the host's exit, so that `pulumi install` could fail with "os: process already finished".)
	stopping, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancel := make(chan bool)
	go func() {
		<-stopping.Done()
		close(cancel)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(s, newHost(Base{
				EngineAddress: engineAddress, stopping: stopping, stop: stop,
			}))
			return nil
		},
	})
	if err != nil {
		Exit(name, err)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		Exit(name, err)
	}
}

// Exit prints one line naming the host and the error, and exits 1.
func Exit(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}

// Handshake records the engine's address and, as Pulumi's hosts do, stops the host when the engine goes away.
func (b *Base) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	b.EngineAddress = req.EngineAddress
	if b.stop == nil {
		return nil, fmt.Errorf("the host was not started by hostkit.Serve: it has nothing to stop")
	}
	if err := rpcutil.Healthcheck(b.stopping, b.EngineAddress, 5*time.Minute, b.stop); err != nil {
		return nil, fmt.Errorf("could not start the health check of the engine: %w", err)
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo reports the version of the CLI the host was built with.
func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// Files are a generator's output: each file's path in the SDK and its content.
type Files = map[string][]byte

// Generator is a code generator of Pulumi's pkg module, given the bound package and the engine's schema loader.
type Generator func(pkg *schema.Package, loader schema.ReferenceLoader) (Files, error)

// GeneratePackage binds the request's schema with the engine's loader, runs the generator and writes its files into
// the request's directory; a schema with errors is answered with its diagnostics, as Pulumi's hosts answer it.
func GeneratePackage(
	req *pulumirpc.GeneratePackageRequest, generate Generator,
) (*pulumirpc.GeneratePackageResponse, error) {
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	loader := schema.NewCachedLoader(client)
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.Schema), &spec); err != nil {
		return nil, fmt.Errorf("reading the package's schema: %w", err)
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	answer := &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
	if diags.HasErrors() {
		return answer, nil
	}
	files, err := generate(pkg, loader)
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		path := filepath.Join(req.Directory, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("could not make the folder of %s: %w", name, err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("could not write %s: %w", name, err)
		}
	}
	return answer, nil
}

// Linked is a package `pulumi package add` links into a program: its definition and the path of its generated SDK.
type Linked struct {
	Package *schema.Package
	Path    string
}

// LinkedPackages loads the definition of each package of a Link request through the engine's loader, with the
// language's facts (its importer) read from the schema; and the path of Pulumi's own SDK when the request links one
// (the package "pulumi", a local build of the SDK).
func LinkedPackages(
	ctx context.Context, req *pulumirpc.LinkRequest, language string, importer schema.Language,
) (linked []Linked, pulumiSDK string, err error) {
	client, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, "", err
	}
	defer client.Close()
	loader := schema.NewCachedLoader(client)
	for _, dep := range req.Packages {
		if dep.Package.Name == "pulumi" {
			pulumiSDK = dep.Path
			continue
		}
		descriptor := &schema.PackageDescriptor{Name: dep.Package.Name, DownloadURL: dep.Package.Server}
		if v, err := semver.New(dep.Package.Version); err == nil {
			descriptor.Version = v
		}
		if p := dep.Package.Parameterization; p != nil {
			descriptor.Parameterization = &schema.ParameterizationDescriptor{Name: p.Name, Value: p.Value}
			if v, err := semver.New(p.Version); err == nil {
				descriptor.Parameterization.Version = *v
			}
		}
		ref, err := schema.LoadPackageReferenceV2(ctx, loader, descriptor)
		if err != nil {
			return nil, "", err
		}
		pkg, err := ref.Definition() // bound whole: nothing of it is loaded later
		if err == nil {
			err = pkg.ImportLanguages(map[string]schema.Language{language: importer})
		}
		if err != nil {
			return nil, "", err
		}
		linked = append(linked, Linked{Package: pkg, Path: dep.Path})
	}
	return linked, pulumiSDK, nil
}

// Dependency is a resource plugin a program needs, named and versioned as Pulumi's hosts report it: the version with
// a leading v.
func Dependency(
	name, version, server string, parameterization *plugin.PulumiParameterizationJSON,
) *pulumirpc.PackageDependency {
	if version != "" && !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	dependency := &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: version, Server: server}
	if p := parameterization; p != nil {
		dependency.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return dependency
}
