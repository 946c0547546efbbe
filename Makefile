# The two commands a newcomer runs: `make demo` and `make test`. Both set up what they need first.
.PHONY: setup setup-dev demo test lint typecheck unit engine bench clean

setup:
	scripts/setup

setup-dev:
	scripts/setup --dev

demo: setup-dev
	venv/bin/python scripts/demo.py

lint: setup-dev
	venv/bin/ruff check .
	venv/bin/ruff format --check .

typecheck: setup-dev
	venv/bin/mypy --strict components

# Every test, the engine tests included (they run the CLI that scripts/setup built).
test: lint typecheck
	venv/bin/pytest

bench: setup-dev
	venv/bin/python -m benchmarks

clean:
	rm -rf .pulumi-state .demo
