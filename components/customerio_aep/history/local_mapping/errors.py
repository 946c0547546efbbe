"""What the local Data Prep evaluator refuses: a mapping it cannot evaluate exactly, an event AEP would fail too."""

from __future__ import annotations


class UnsupportedMapping(ValueError):
    """The mapping set uses what this evaluator does not evaluate exactly (a function, an operator, a pattern)."""


class RecordError(ValueError):
    """One event cannot become a record (AEP would fail it too): a value that does not convert, a required field
    empty."""
