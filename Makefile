# The two commands a newcomer runs: `make demo` and `make test`. Both set up what they need first.
# While editing, `make check` (lint, types, the fast tests) answers in about a minute on two cores.
.PHONY: setup setup-dev setup-demo demo check test lint typecheck bench clean acceptance acceptance-sweep

# Python keeps the bytecode of what it imports in one ignored folder, even where PYTHONDONTWRITEBYTECODE is set (as it
# is on the machines this project is built on): otherwise every process compiles each module it imports again, half a
# second of CPU for each program and provider the CLI starts. The set-up installs without compiling; the first run
# compiles what it uses. The folder also gathers the bytecode of the tests' temporary copies (about a MB a run):
# `make clean` empties it.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(CURDIR)/.tools/pycache

# The engine tests wait on the CLI's processes: `make test` runs one worker more than the cores.
PYTEST = venv/bin/pytest -p no:cacheprovider

setup:
	scripts/setup

setup-dev:
	scripts/setup --dev

# The demo needs the program's virtualenv with the emulators and the CLI: no dev tools, no other language host.
setup-demo:
	scripts/setup --demo

demo: setup-demo
	venv/bin/python scripts/demo.py

lint: setup-dev
	venv/bin/ruff check .
	venv/bin/ruff format --check .

MYPY = venv/bin/mypy --strict components tests benchmarks scripts provider policy

typecheck: setup-dev
	$(MYPY)

# Lint, types and every test that needs neither the Pulumi CLI nor a large run. Left out (`make test` runs them): the
# engine tests (the real CLI, the demo, the wheel, the acceptance suite against the emulators) and the tests marked
# `slow` (bursts, fault runs, the history's 20,000 deliveries, a backlog drained at a budget). Two workers: the tests
# hardly wait since the emulators answer without Nagle's 40 ms, and each more worker imports the suite once more;
# worksteal: a worker done early takes the other's queued tests (the history tests wait on the App API's pace).
# HYPOTHESIS_PROFILE: how many examples each property test tries (tests/conftest.py): a few here, more in `make test`.
# mypy runs beside the tests (they mostly wait on the emulators' paces); either failing fails the check.
check: lint
	$(MYPY) & typecheck=$$!; \
	HYPOTHESIS_PROFILE=check $(PYTEST) -n 2 --dist worksteal -q -m "not engine and not slow"; tests=$$?; \
	wait $$typecheck && exit $$tests

# Every test, the engine tests included (they run the CLI that scripts/setup built), with line coverage per module of
# the processes the tests start, except where measuring finds no line nothing else runs (tests/conftest.py). The
# engine tests that start from the same template stack share a worker (--dist loadgroup; tests/engine/templates.py).
test: lint typecheck
	rm -f .coverage .coverage.*
	HYPOTHESIS_PROFILE=test COVERAGE_PROCESS_START=$(CURDIR)/pyproject.toml COVERAGE_FILE=$(CURDIR)/.coverage $(PYTEST) -n 3 --dist loadgroup \
	  --durations=10
	venv/bin/coverage combine -q
	venv/bin/coverage report
	venv/bin/python scripts/coverage_floor.py

# The lifecycle against a real AEP sandbox named by AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_ORG_ID, AEP_SANDBOX (CONTRIBUTING.md,
# "The acceptance suite"); without them it says what to set and exits 0. Not part of `make test`, which runs
# the same suite against the emulators (tests/acceptance/test_acceptance.py).
acceptance: setup-dev
	venv/bin/python -m tests.acceptance run --report-dir "$${ACCEPTANCE_REPORT_DIR:-.}"

# Removes what earlier acceptance runs left (objects with a run prefix, older than an hour), printing each one.
acceptance-sweep: setup-dev
	venv/bin/python -m tests.acceptance sweep

bench: setup-dev
	venv/bin/python -m benchmarks

clean:
	rm -rf .pulumi-state .demo .coverage .tools/pycache
