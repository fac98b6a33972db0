#!/usr/bin/env python3
"""Issue 22's targets (docs/benchmarks.md), run by scripts/bench-seam.sh on 127.0.0.1: the seam around a cog must cost
nothing on the paths that cross it.

Three servers in the same run, alternated round by round so drift hits them alike: the previous release and this
build (each with the built-in cogs and examples/node-counter as an external cog, each seeded through its own API with
100 tickets x 10 messages), and a bare Hummingbird server answering the same JSON as /api/health (Benchmarks/
HelloBaseline). wrk at 64 connections, 2 s warm-up, then ROUNDS rounds of 10 s; medians. Server CPU time per request
from /proc/<pid>/stat around each wrk run.

  - GET /api/health: previous, current, and the bare server (the CPU ratio target: current within 1.15x the bare one)
  - GET /api/tickets as the admin: previous, current
  - GET /api/counter/ping (the external cog's trivial route): previous, current
"""
import importlib.util, json, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location("contract_bench", os.path.join(ROOT, "scripts", "bench", "contract_bench.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

CURRENT = os.path.join(ROOT, ".build", "release", "guildhall")
PREVIOUS = os.environ["PREVIOUS_GUILDHALL"]
PREVIOUS_EXAMPLES = os.environ["PREVIOUS_EXAMPLES"]
BASELINE = os.path.join(ROOT, ".build", "release", "hello-baseline")
ROUNDS = int(os.environ.get("ROUNDS", "5"))
# The contract benchmark's settings, with the counter enabled and time for it to start.
CONFIG = (bench.CONFIG.replace("enabled: [tickets, memes, rocket_league, combatlog]", "enabled: [tickets, memes, rocket_league, combatlog, counter]")
          .replace("combatlog, counter]\n", "combatlog, counter]\n  start_timeout_seconds: 30\n"))


def start(binary, examples, port, folder):
    """A server with the built-in cogs and the node counter (its own release's copy) installed beside its database."""
    os.makedirs(os.path.join(folder, "plugins"), exist_ok=True)
    shutil.copytree(os.path.join(examples, "node-counter"), os.path.join(folder, "plugins", "counter"))
    bench.CONFIG = CONFIG
    server = bench.start(binary, port, folder)
    for _ in range(200):
        try:
            bench.urllib.request.urlopen(f"http://127.0.0.1:{port}/api/counter/ping", timeout=1)
            return server
        except Exception:
            time.sleep(0.1)
    bench.stop(server)
    raise SystemExit(f"the counter cog did not come up on port {port}")


def seed_tickets(port):
    admin = bench.request(port, "POST", "/api/auth/login", {"username": "admin", "password": bench.ADMIN_PASS})["token"]
    users = [bench.request(port, "POST", "/api/auth/login", {"username": f"user{n}", "password": "password"})["token"]
             for n in range(1, 21)]
    for number in range(100):
        owner = users[number % len(users)]
        ticket = bench.request(port, "POST", "/api/tickets", {"subject": f"Ticket {number}", "message": "printer error"}, owner)
        for index in range(1, 10):
            bench.request(port, "POST", f"/api/tickets/{ticket['ticket']['ticket_id']}/send", {"message": f"reply {index}"},
                          admin if index % 2 else owner)
    return admin


def main():
    work = tempfile.mkdtemp(prefix="guildhall-seam-bench-")
    os.chmod(work, 0o755)  # the counter runs as a user of its own (external-cogs.md, Isolation): it must reach its folder
    servers, baseline = {}, None
    try:
        for name, binary, examples, port in (("previous", PREVIOUS, PREVIOUS_EXAMPLES, 18811),
                                             ("current", CURRENT, os.path.join(ROOT, "examples"), 18812)):
            process = start(binary, examples, port, os.path.join(work, name))
            servers[name] = (process, port, seed_tickets(port))
        baseline = subprocess.Popen([BASELINE, "18813"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bench.wait_up(18813, "/")
        targets = {}
        for name, (process, port, admin) in servers.items():
            targets[f"health:{name}"] = (f"http://127.0.0.1:{port}/api/health", process.pid, None)
            targets[f"tickets:{name}"] = (f"http://127.0.0.1:{port}/api/tickets", process.pid, admin)
            targets[f"external:{name}"] = (f"http://127.0.0.1:{port}/api/counter/ping", process.pid, None)
        targets["health:bare"] = ("http://127.0.0.1:18813/api/health", baseline.pid, None)
        for url, pid, token in targets.values():
            bench.wrk(url, pid, token=token, duration="2s")
        runs = {name: [] for name in targets}
        for _ in range(ROUNDS):
            for name, (url, pid, token) in targets.items():
                runs[name].append(bench.wrk(url, pid, token=token))
        summary = {}
        for name, rounds in runs.items():
            summary[name] = {
                "requests_per_second": statistics.median(r["req_s"] for r in rounds),
                "cpu_us_per_request": statistics.median(r["cpu_us_per_request"] for r in rounds),
                "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
                "non_2xx": sum(r["non2xx"] + r["sock_err"] for r in rounds),
                "rounds_rps": [round(r["req_s"]) for r in rounds],
                "rounds_cpu_us": [round(r["cpu_us_per_request"], 1) for r in rounds],
            }
        print(json.dumps({"date": time.strftime("%Y-%m-%d"), "rounds": ROUNDS, "results": summary}, indent=2))
    finally:
        for process, *_ in servers.values():
            bench.stop(process)
        if baseline:
            baseline.terminate()
            baseline.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
