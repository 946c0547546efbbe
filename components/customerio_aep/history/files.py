"""The files of a history batch: Parquet when pyarrow is installed (the `history` extra), else JSON lines.

Both are formats the Batch Ingestion API takes (help/ingestion/batch-ingestion/api-overview.md). Parquet is the default
because the bulk road's limit is bytes (20 GB an hour into the data lake): columnar and compressed, a history record
takes several times less room than its JSON line (`python -m benchmarks.history` measures both), so the upload stops
being the bottleneck."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

JSON, PARQUET = "json", "parquet"


def parquet_available() -> bool:
    """Whether pyarrow (the `history` extra) is installed."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def default_format() -> str:
    """Parquet when it can be written here, else JSON lines."""
    return PARQUET if parquet_available() else JSON


def encode(records: Sequence[str], file_format: str, types: Mapping[str, str]) -> bytes:
    """One file of records (each a JSON object as text) in `file_format`; `types` are the dataset schema's leaf
    types, which give the Parquet columns their XDM types."""
    lines = ("\n".join(records) + "\n").encode()
    if file_format == JSON:
        return lines
    return _parquet(lines, types)


def _parquet(lines: bytes, types: Mapping[str, str]) -> bytes:
    import pyarrow as pa
    import pyarrow.json as pa_json
    import pyarrow.parquet as pq

    scalar = {"string": pa.string(), "date-time": pa.string(), "date": pa.string(), "integer": pa.int64(),
              "number": pa.float64(), "boolean": pa.bool_()}  # fmt: skip
    tree: dict[str, Any] = {}
    for path, xdm_type in types.items():
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = scalar.get(xdm_type, pa.string())

    def arrow(node: dict[str, Any]) -> list[Any]:
        return [pa.field(k, pa.struct(arrow(v)) if isinstance(v, dict) else v) for k, v in node.items()]

    # Arrow reads the JSON lines itself, against the schema's types (a record's every field is one of them), in C++:
    # a fifth of the CPU of parsing each record in Python and building the table from the objects.
    table = pa_json.read_json(
        io.BytesIO(lines),
        read_options=pa_json.ReadOptions(block_size=max(1 << 20, len(lines) + 1)),
        parse_options=pa_json.ParseOptions(explicit_schema=pa.schema(arrow(tree)), unexpected_field_behavior="ignore"),
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()
