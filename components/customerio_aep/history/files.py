"""The records of a history batch as Arrow tables: made from a page's record columns, staged as a part (an Arrow IPC
file, with each record's event id), and written as the batch's files, Parquet (the default) or JSON lines.

Both are formats the Batch Ingestion API takes (help/ingestion/batch-ingestion/api-overview.md). Parquet is the default
because the bulk road's limit is bytes (20 GB an hour into the data lake): columnar and compressed, a history record
takes several times less room than its JSON line (`python -m benchmarks.history` measures both), so the upload stops
being the bottleneck. The bulk road needs pyarrow, the `history` extra."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

JSON, PARQUET = "json", "parquet"
EVENT_ID = "customerio-aep event id"
"""A part's column of event ids (a name no XDM field can have); it is not uploaded."""


def parquet_available() -> bool:
    """Whether pyarrow (the `history` extra) is installed."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def record_memory() -> Iterator[None]:
    """Arrow's buffers from jemalloc while a run makes records (then the pool before is put back), where pyarrow has it
    and ARROW_DEFAULT_MEMORY_POOL does not choose another. Each page's tables and parts are new buffers of about a
    megabyte, freed a page later: pyarrow's default, mimalloc, gave their memory back and faulted it in again, and a run
    held 35 MB more and spent about 4 % more CPU (`python -m benchmarks.history`, alternating runs)."""
    import pyarrow as pa

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        yield
        return
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a build without it (Windows)
        yield
        return
    before = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def arrow_schema(types: Mapping[str, str]) -> pa.Schema:
    """The Arrow schema of a dataset's records: its leaf fields (dotted paths) with their XDM types, nested."""
    import pyarrow as pa

    scalar = {"string": pa.string(), "date-time": pa.string(), "date": pa.string(), "integer": pa.int64(),
              "number": pa.float64(), "boolean": pa.bool_()}  # fmt: skip
    tree: dict[str, Any] = {}
    for path, xdm_type in types.items():
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = scalar.get(xdm_type, pa.string())

    def fields(node: dict[str, Any]) -> list[pa.Field]:
        return [pa.field(k, pa.struct(fields(v)) if isinstance(v, dict) else v) for k, v in node.items()]

    return pa.schema(fields(tree))


def record_table(values: Mapping[str, Sequence[Any] | pa.Array], schema: pa.Schema, count: int,
                 drop: Collection[int]) -> pa.Table:  # fmt: skip
    """The records whose destinations' values are `values` (one per event, as Python values or an Arrow array; None:
    not set), but the events in `drop`, as a table of `schema` (a field no destination fills is null)."""
    import pyarrow as pa

    def array(path: str, field: pa.Field) -> pa.Array:
        if pa.types.is_struct(field.type):
            children = [array(f"{path}.{child.name}", child) for child in field.type]
            return pa.StructArray.from_arrays(children, fields=list(field.type))
        column = values.get(path)
        if column is None:
            return pa.nulls(count, field.type)
        if isinstance(column, pa.Array):
            if column.null_count == count:
                return pa.nulls(count, field.type)
            return column if column.type == field.type else column.cast(field.type)
        if column.count(None) == count:  # history leaves many fields empty: no need to read them
            return pa.nulls(count, field.type)
        return pa.array(column, field.type)

    table = pa.Table.from_arrays([array(field.name, field) for field in schema], schema=schema)
    return table if not drop else table.filter(pa.array([i not in drop for i in range(count)]))


def encode(table: pa.Table, file_format: str) -> bytes:
    """One file of records in `file_format`."""
    if file_format == JSON:
        return "".join(json.dumps(_set_only(row), separators=(",", ":")) + "\n" for row in table.to_pylist()).encode()
    import pyarrow.parquet as pq

    out = io.BytesIO()
    # Dictionaries cost CPU and bytes here: most columns are ids and times, and zstd folds the repeated ones anyway;
    # nothing reads the statistics.
    pq.write_table(table, out, compression="zstd", use_dictionary=False, write_statistics=False)
    return out.getvalue()


def write_part(table: pa.Table, event_ids: Sequence[str]) -> bytes:
    """Staged records with their events' ids: Arrow's own file format, uncompressed. A part waits only until its batch
    lands, and is read back whole: LZ4 halved its bytes for two thirds of the page's staging CPU (the bytes that count
    are the upload's, in `encode`)."""
    import pyarrow as pa
    from pyarrow import feather

    out = pa.BufferOutputStream()
    feather.write_feather(
        table.append_column(EVENT_ID, pa.array(event_ids, pa.string())), out, compression="uncompressed"
    )
    return bytes(out.getvalue())


def read_part(source: bytes | Path) -> tuple[list[str], pa.Table]:
    """A part's event ids and records."""
    table = _feather(source, None)
    return table.column(EVENT_ID).to_pylist(), table.drop_columns([EVENT_ID])


def part_ids(source: bytes | Path) -> list[str]:
    """A part's event ids (its records are not read)."""
    ids: list[str] = _feather(source, [EVENT_ID]).column(EVENT_ID).to_pylist()
    return ids


def _feather(source: bytes | Path, columns: list[str] | None) -> pa.Table:
    import pyarrow as pa
    from pyarrow import feather

    return feather.read_table(pa.BufferReader(source) if isinstance(source, bytes) else str(source), columns=columns)


def json_table(lines: Iterable[str], schema: pa.Schema) -> pa.Table:
    """Records given as JSON objects, one a line, as a table of `schema` (fields it does not have are ignored)."""
    import pyarrow.json as pa_json

    content = "".join(line + "\n" for line in lines).encode()
    return pa_json.read_json(
        io.BytesIO(content),
        read_options=pa_json.ReadOptions(block_size=max(1 << 20, len(content) + 1)),
        parse_options=pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
    )


def _set_only(doc: dict[str, Any]) -> dict[str, Any]:
    """A record as JSON has it: the fields that are set."""
    out = {}
    for key, value in doc.items():
        kept = _set_only(value) if isinstance(value, dict) else value
        if kept is not None and kept != {}:
            out[key] = kept
    return out
