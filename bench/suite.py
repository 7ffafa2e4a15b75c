"""The whole benchmark: modembridge and its peers against `modembridge sim`, one table. Run `bench/run`."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import fleet_bench
import mb_bench
import peers_bench
from procs import ROOT, Router, git_state, machine
from report import headline, machine_line, table


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


async def guarded(name: str, coro: Any) -> dict[str, Any]:
    try:
        return dict(await coro)
    except Exception as exc:  # one broken part must not cost the others' figures
        log(f"{name} failed: {exc!r}")
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


async def main(args: argparse.Namespace) -> int:
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="modembridge-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "git": git_state(), "quick": args.quick,
                               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    t0 = time.monotonic()
    everything = {"modembridge", "kannel", "gsmmodem", "gammu", "floor", "fleet"}
    parts = set(args.only.split(",")) if args.only else everything
    if "modembridge" in parts:
        results["modembridge"] = await guarded("modembridge", mb_bench.run_all(work, args.quick, log))
    if "kannel" in parts:
        async with Router() as router:
            results["kannel"] = await guarded("kannel", peers_bench.run_kannel(work, router, args.quick, log))
    if "gsmmodem" in parts:
        async with Router() as router:
            results["gsmmodem"] = await guarded(
                "gsmmodem", peers_bench.run_gsmmodem(work, router, args.quick, log))
    if "gammu" in parts:
        async with Router() as router:
            results["gammu"] = await guarded("gammu", peers_bench.run_gammu(work, router, args.quick, log))
    if "floor" in parts:
        async with Router() as router:
            results["floor"] = await guarded("floor", peers_bench.run_floor(work, router, args.quick, log))
    if "fleet" in parts:
        async with Router() as router:
            results["fleet"] = await guarded(
                "fleet", fleet_bench.run_fleet(work, f"{router.url}/backend/bench/", args.quick, log))
    results["seconds"] = time.monotonic() - t0
    md = ("modembridge against its peers, this run, the figures of issue 18:\n\n" + headline(results)
          + "\n\nEvery figure:\n\n" + table(results))
    if "fleet" in results:
        md += "\n\nFleet mode (issue 16):\n\n" + fleet_bench.fleet_table(results["fleet"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    for name in (f"bench-{stamp}.json", "latest.json"):
        (out / name).write_text(json.dumps(results, indent=1, default=str) + "\n")
    g = results["git"]
    header = (f"Machine: {machine_line(results['machine'])}. Code: {g['head']}"
              f"{' + uncommitted changes in ' + ', '.join(g['modified']) if g['modified'] else ''}. "
              f"Suite took {results['seconds']:.0f} s") + (
        " (--quick: tiny counts, figures not meaningful)." if args.quick else ".")
    (out / "latest.md").write_text(header + "\n\n" + md + "\n")
    print(header + "\n\n" + md, flush=True)
    log(f"results: {out / 'latest.json'}, {out / 'latest.md'}")
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)
    failed = [k for k in ("modembridge", "kannel", "gsmmodem", "gammu") if isinstance(results.get(k), dict)
              and "error" in results[k]]
    return 1 if "modembridge" in failed else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    p.add_argument("--quick", action="store_true", help="tiny counts (smoke test): a table, no real figures")
    p.add_argument("--only", default="",
                   help="comma-separated: modembridge,kannel,gsmmodem,gammu,floor,fleet")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="where JSON and the table go")
    p.add_argument("--work", default="", help="working folder (kept); default: a temporary one, removed")
    p.add_argument("--keep", action="store_true", help="keep the temporary working folder (logs)")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
