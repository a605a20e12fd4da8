"""Runs llrpkit's reader emulator in-process so a test can read its observability hooks.

usage: llrp_emulator_acks.py
stdout: `port N` once listening (127.0.0.1); when standard input reaches end of file,
`keepalive_acks K` (the KEEPALIVE_ACKs the emulator received) and the script exits.
"""

import asyncio
import sys

from llrpkit.emulator import LLRPEmulator, default_population


async def main():
    emu = LLRPEmulator(port=0, tags=default_population(6, 4), reads_per_sec=50)
    async with emu:
        print(f"port {emu.port}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        print(f"keepalive_acks {emu.keepalive_acks}", flush=True)


asyncio.run(main())
