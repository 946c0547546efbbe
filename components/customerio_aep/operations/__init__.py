"""Operating a deployed integration: `python -m customerio_aep status` and `redrive`."""
