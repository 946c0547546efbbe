"""The customerio-aep provider plugin: `pulumi` runs it (PulumiPlugin.yaml) for YAML, TypeScript and Go programs."""

import sys

from pulumi.provider.experimental.server import main

from customerio_aep.package import package_version
from customerio_aep.package.provider import PackageProvider

if __name__ == "__main__":
    main(sys.argv, package_version(), PackageProvider(package_version()))
