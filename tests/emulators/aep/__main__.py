"""Run the AEP emulator standalone: python -m tests.emulators.aep --port 8710 [--inlet-latency 0.05]."""

import argparse
import time

from tests.emulators.aep import AepEmulator
from tests.emulators.faults import Fault

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--port", type=int, default=8710)
parser.add_argument("--inlet-latency", type=float, default=0.0, help="seconds added to every inlet post")
args = parser.parse_args()
emulator = AepEmulator().start(args.port)
if args.inlet_latency:
    emulator.faults.add(Fault("latency", operation="inlet.post", seconds=args.inlet_latency))
print(f"AEP emulator on {emulator.url} (client id {emulator.client_id}, org {emulator.org_id})", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    emulator.stop()
