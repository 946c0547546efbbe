"""Local stand-in for Adobe Experience Platform: strict, in-memory, with call counting and fault injection."""

from tests.emulators.aep.emulator import AepEmulator

__all__ = ["AepEmulator"]
