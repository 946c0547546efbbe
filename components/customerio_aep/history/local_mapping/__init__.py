"""A Data Prep mapping set applied here, to history: the same records AEP's Data Prep makes of live events.

A batch goes straight into the dataset with no mapping applied (help/ingestion/batch-ingestion/api-overview.md), so
the batch road applies the dataflow's own mapping set version itself. This evaluator covers attribute copies and the
expressions the default mapping and documented `mappingExtra` use; anything else raises `UnsupportedMapping` naming
the function, never a guess. The fidelity guard (fidelity.py) checks it against AEP's `mappingSets/preview` before
anything is uploaded.

The parser (parser.py) reads an expression into typed nodes (syntax.py); the compiler (compiler.py) makes them a
function of the event, over Data Prep's functions (functions.py, java_dates.py), and columns.py a function of a page of
events as columns (a column of dates printed by Arrow, arrow_dates.py); mapping.py applies a mapping set, converting
values to their XDM types (xdm_types.py)."""

from customerio_aep.history.local_mapping.columns import compile_columns, evaluate_columns
from customerio_aep.history.local_mapping.compiler import Compiled, compile_node, evaluate
from customerio_aep.history.local_mapping.errors import RecordError, UnsupportedMapping
from customerio_aep.history.local_mapping.java_dates import java_format
from customerio_aep.history.local_mapping.mapping import REQUIRED, Entry, LocalMapping, RecordColumns
from customerio_aep.history.local_mapping.parser import parse
from customerio_aep.history.local_mapping.syntax import Node, source_paths
from customerio_aep.history.local_mapping.xdm_types import convert, leaf_types

__all__ = [
    "REQUIRED",
    "Compiled",
    "Entry",
    "LocalMapping",
    "Node",
    "RecordColumns",
    "RecordError",
    "UnsupportedMapping",
    "compile_columns",
    "compile_node",
    "convert",
    "evaluate",
    "evaluate_columns",
    "java_format",
    "leaf_types",
    "parse",
    "source_paths",
]
