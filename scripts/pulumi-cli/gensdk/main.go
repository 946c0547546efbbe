// Command gensdk writes the TypeScript and Go SDKs of a Pulumi package from its schema, with the code generators of
// Pulumi's pkg module that `pulumi package gen-sdk` uses. gen-sdk asks the Node.js and Go language hosts to run them,
// and those hosts' Go modules are not served by the module proxy; the generators themselves are in pkg, which is.
//
// Usage: gensdk SCHEMA.json OUT_DIR   (writes OUT_DIR/nodejs and OUT_DIR/go)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	nodejsgen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "customerio-aep gensdk"

func main() {
	if len(os.Args) != 3 {
		fail(fmt.Errorf("usage: gensdk SCHEMA.json OUT_DIR"))
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		fail(fmt.Errorf("reading the schema: %w", err))
	}
	// Each generator records its own language's facts on the package, so each gets a package of its own.
	bind := func() *schema.Package {
		pkg, diags, err := schema.BindSpec(spec, noOtherPackages{}, schema.ValidationOptions{})
		if err != nil {
			fail(err)
		}
		if diags.HasErrors() {
			fail(diags)
		}
		return pkg
	}
	nodejs, err := nodejsgen.GeneratePackage(tool, bind(), nil, nil, false, nil)
	if err != nil {
		fail(fmt.Errorf("TypeScript: %w", err))
	}
	write(filepath.Join(os.Args[2], "nodejs"), nodejs)
	golang, err := gogen.GeneratePackage(tool, bind(), nil)
	if err != nil {
		fail(fmt.Errorf("Go: %w", err))
	}
	write(filepath.Join(os.Args[2], "go"), golang)
}

func write(dir string, files map[string][]byte) {
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "gensdk: %v\n", err)
	os.Exit(1)
}

// noOtherPackages is the loader of a schema that refers to no other package (only pulumi.json's built-in types).
type noOtherPackages struct{}

func (noOtherPackages) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema refers to package %q; it should refer to none", pkg)
}

func (l noOtherPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return l.LoadPackage(d.Name, nil)
}

func (noOtherPackages) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("the schema refers to package %q; it should refer to none", pkg)
}

func (l noOtherPackages) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return l.LoadPackageReference(d.Name, nil)
}
