#!/usr/bin/env python3
"""The ticket list under a realistic mix (issue 13), run by scripts/bench-tickets-mix.sh; see docs/benchmarks.md.

Same data everywhere as tickets_bench.py (50 users, 200 tickets x 20 messages, 30% closed). Then, alternating
between the servers in each round (wrk, 2 threads, 64 connections, 2 s warm-up + 10 s each):
1. list: GET /api/tickets?status=all as the admin, this build against the previous build (PREVIOUS_GUILDHALL, a
   guildhall binary; skipped if unset): the app's admin list with its new fields must stay within 10%.
2. mix: the same list with one POST /api/tickets/{id}/send for every 20 reads, spread over the open tickets
   (scripts/bench/mixed.lua), against this build, Flask as the document deploys it (gunicorn sync), Flask with
   keep-alive (gthread) and FastAPI (uvicorn, 2 workers): at least 5x Flask's requests per second, p99 < 20 ms.
"""
import json, os, re, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tickets_bench import ADMIN_PASS, ROOT, request, seed_guildhall, start_guildhall, start_references, stop, wait_up  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
PREVIOUS = os.environ.get("PREVIOUS_GUILDHALL")
PORTS = {"guildhall": 18490, "previous": 18491, "flask-sync": 18492, "flask": 18493, "fastapi": 18494}
HERE = os.path.dirname(os.path.abspath(__file__))


def wrk(port, token, script, env_extra=None):
    env = dict(os.environ, API_TOKEN=token, **(env_extra or {}))
    url = f"http://127.0.0.1:{port}/api/tickets?status=all"
    subprocess.run(["wrk", "-t2", "-c64", "-d2s", "--timeout", "5s", "-s", script, url], env=env, capture_output=True)
    out = subprocess.run(["wrk", "-t2", "-c64", "-d10s", "--timeout", "5s", "--latency", "-s", script, url],
                         env=env, capture_output=True, text=True, timeout=60).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKRESULT"))
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


def open_ids(port, token):
    listing = request(port, "GET", "/api/tickets?status=open", token=token)["tickets"]
    return ",".join(str(t.get("ticket_id", t.get("id"))) for t in listing)


def main():
    work = tempfile.mkdtemp(prefix="guildhall-mix-bench-")
    processes = []
    servers = dict(PORTS)
    if not PREVIOUS:
        servers.pop("previous")
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "loadavg": open("/proc/loadavg").read().split()[:3]}
    try:
        start_guildhall(os.path.join(ROOT, ".build", "release", "guildhall"), PORTS["guildhall"], os.path.join(work, "current"), processes)
        if PREVIOUS:
            start_guildhall(PREVIOUS, PORTS["previous"], os.path.join(work, "previous"), processes)
        start_references(work, PORTS, processes)
        for port in servers.values():
            wait_up(port)
        tokens = {name: seed_guildhall(servers[name]) for name in ("guildhall", "previous") if name in servers}
        for name in ("flask", "fastapi", "flask-sync"):
            tokens[name] = request(PORTS[name], "POST", "/api/auth/login", {"username": "admin", "password": ADMIN_PASS})["token"]
        ids = {name: open_ids(port, tokens[name]) for name, port in servers.items()}
        results["open_tickets"] = {name: len(value.split(",")) for name, value in ids.items()}
        listing = {name: [] for name in ("guildhall", "previous") if name in servers}
        mix = {name: [] for name in servers if name != "previous"}
        for _ in range(ROUNDS):
            for name in listing:
                listing[name].append(wrk(servers[name], tokens[name], os.path.join(HERE, "result.lua"), {"TOKEN": tokens[name]}))
            for name in mix:
                mix[name].append(wrk(servers[name], tokens[name], os.path.join(HERE, "mixed.lua"), {"TICKET_IDS": ids[name]}))
        results["list"], results["mix"] = listing, mix
    finally:
        stop(processes, work)

    print(json.dumps(results, indent=2))
    print()
    med = lambda runs, key: statistics.median(r[key] for r in runs)
    for name, runs in results["list"].items():
        print(f"list {name:10s} req/s " + ", ".join(f"{r['req_s']:.0f}" for r in runs) + "  p99 ms " + ", ".join(f"{r['p99_ms']:.2f}" for r in runs))
    if "previous" in results["list"]:
        print(f"this build = {100 * med(results['list']['guildhall'], 'req_s') / med(results['list']['previous'], 'req_s'):.0f}% "
              "of the previous build (target >= 90%)")
    for name, runs in results["mix"].items():
        print(f"mix  {name:10s} req/s " + ", ".join(f"{r['req_s']:.0f}" for r in runs) + "  p99 ms " + ", ".join(f"{r['p99_ms']:.2f}" for r in runs)
              + "  non-2xx " + ", ".join(f"{r['non2xx']:.0f}" for r in runs))
    g = med(results["mix"]["guildhall"], "req_s")
    print(f"mix: Guildhall = {g / med(results['mix']['flask-sync'], 'req_s'):.1f}x Flask as deployed, "
          f"{g / med(results['mix']['flask'], 'req_s'):.1f}x Flask keep-alive (target >= 5), "
          f"{g / med(results['mix']['fastapi'], 'req_s'):.1f}x FastAPI; p99 {med(results['mix']['guildhall'], 'p99_ms'):.2f} ms (target < 20)")


if __name__ == "__main__":
    main()
