"""The acceptance suite: the module's lifecycle against a real AEP sandbox (`make acceptance`), and the sweeper
(`make acceptance-sweep`). In `make test` it runs against the emulators (tests/acceptance/test_acceptance.py)."""
