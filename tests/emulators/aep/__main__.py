"""Run the AEP emulator standalone: python -m tests.emulators.aep --port 8710."""

import argparse
import time

from tests.emulators.aep import AepEmulator

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--port", type=int, default=8710)
args = parser.parse_args()
emulator = AepEmulator().start(args.port)
print(f"AEP emulator on {emulator.url} (client id {emulator.client_id}, org {emulator.org_id})", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    emulator.stop()
