"""Instructions per relayed RTP packet, in the relay process's user space, whatever the load.

    .venv/bin/python benchmarks/media_instructions.py
    PYTHONPATH=/path/to/compiled/site .venv/bin/python benchmarks/media_instructions.py \\
        --targets uvloop,tamas,tamas+rec --calls 20

``benchmarks/media_capacity.py`` measures capacity in seconds, which move with whatever else
the machine runs. This counts instructions instead (valgrind's callgrind: the same count for
the same code and inputs, loaded machine or not), so that a change to the hot path can be
compared with the one before it, or with the lean uvloop relay, on a shared machine.

For each target, the relay (``benchmarks/media/relay_server.py`` for ``tamas`` and
``tamas+rec``, ``benchmarks/media/lean_relay.py`` for ``uvloop``) runs under callgrind with
``--calls`` bridged calls, and the load generator of media_capacity.py
(``benchmarks/media/rtpload.c``) sends 20 ms packets both ways, not under valgrind. After a
warm-up the counters are zeroed (``callgrind_control -z``), and ``--seconds`` later dumped
(``-d``): the instructions of that window over the packets the generator sent in it. What is
counted is everything the relay process executes in user space (its threads included:
``tamas+rec``'s sender thread, not its recording process), not the kernel's side of the
system calls. Under valgrind the relay runs tens of times slower, so few calls keep it busy;
each packet then mostly wakes the loop on its own, which a loaded relay amortises over
several: the figures compare relays with each other, they are not a relay's cost at capacity.

Which Tamas build is counted is whichever ``tamas`` the relay imports (see media_capacity.py's
"tamas build" line). Not a test; needs valgrind (Debian package valgrind).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path

from media_capacity import compile_generator, free_port_pair, relay_command, tamas_build

SCRIPTS = {"tamas": "relay_server.py", "tamas+rec": "relay_server.py", "uvloop": "lean_relay.py"}


def count(target: str, calls: int, seconds: float, gen: Path, workdir: Path) -> float:
    """User-space instructions per packet of ``target`` over ``seconds`` of steady load."""
    gen_a, gen_b = free_port_pair()
    out = workdir / f"callgrind.{target}.out"
    record = workdir / "recordings" if target == "tamas+rec" else None
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    cmd += relay_command(SCRIPTS[target], calls, gen_a, gen_b, record)
    relay = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert relay.stdout is not None
    pairs = []
    for line in relay.stdout:
        if line.strip() == "READY":
            break
        pairs.append(line.strip())
    targets = workdir / "targets"
    targets.write_text("\n".join(pairs) + "\n")
    warmup = 4.0
    load = subprocess.Popen(
        [str(gen), str(gen_a), str(gen_b), str(targets), "1", str(warmup + seconds + 2), "1"],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(warmup)
    subprocess.run(["callgrind_control", "-z", str(relay.pid)], check=True, capture_output=True)
    started = time.monotonic()
    time.sleep(seconds)
    subprocess.run(["callgrind_control", "-d", str(relay.pid)], check=True, capture_output=True)
    elapsed = time.monotonic() - started
    load.wait()
    relay.communicate()
    dumps = sorted(workdir.glob(f"{out.name}.*"), key=lambda p: p.stat().st_mtime)
    total = int(re.search(r"^summary: (\d+)", dumps[0].read_text(), re.M).group(1))  # type: ignore[union-attr]
    for dump in workdir.glob(f"{out.name}*"):
        dump.unlink()
    return total / (elapsed * calls * 100)  # 50 packets a second each way per call


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", default="uvloop,tamas,tamas+rec")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    if any(t.startswith("tamas") for t in args.targets.split(",")):
        print(f"tamas build: {tamas_build()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="tamas-media-instr-") as tmp:
        workdir = Path(tmp)
        gen = compile_generator(workdir)
        for target in args.targets.split(","):
            per_packet = count(target, args.calls, args.seconds, gen, workdir)
            print(f"  {target:10s} {per_packet:8,.0f} instructions per packet", flush=True)


if __name__ == "__main__":
    main()
