"""The fleet tests: a package, so their modules share one fleet per backend (package scope)."""
