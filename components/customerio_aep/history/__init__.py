"""Customer.io's history brought into AEP, exactly once beside the live stream (docs/history.md).

The parts: `run` (the command's loop over App API pages, the cut, the report), `road` (what a road is), the two roads
`batch_road` (AEP's Batch Ingestion API, the default) and `stream_road` (the live events' road), `local_mapping` and
`fidelity` (the dataflow's mapping set applied here, and checked against AEP's preview), `files` (the batch files),
`checkpoint` (what was sent, on disk) and `report`. Reading the App API and turning a delivery into events are
Customer.io's side: `customerio/app_api.py` and `customerio/history.py`."""
