#!/usr/bin/env python3
"""Issue 15's targets (docs/benchmarks.md), run by scripts/bench-combatlog-breakdowns.sh on 127.0.0.1.

1. The parser with every breakdown on against the previous release's (PREVIOUS, a commit; default the one before
   issue 15), both built into the same small program by parser_ab.py, pinned to one core, on the same 1 GB of real
   11.2 raid logs (../shared/combatlog/samples, concatenated), alternated for ROUNDS rounds (default 3): MB/s and
   peak memory; and `guildhall combatlog parse` of the same file, whole (its peak memory).
2. The same log gzip-compressed, uploaded (curl, `Content-Encoding: gzip`): seconds from the request's start until
   the upload is stored (the 202), and until every encounter is parsed and stored.
3. The breakdown endpoints of one encounter of that upload, wrk at 16 connections for 10 s each: req/s and p99.
"""
import json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from combatlog_bench import ADMIN_PASS, make_log, start_server  # noqa: E402
from parser_ab import build  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CURRENT = os.path.join(ROOT, ".build", "release", "guildhall")
PREVIOUS = os.environ.get("PREVIOUS", "d63b934")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
LUA = os.path.join(ROOT, "scripts", "bench", "result.lua")
PORT = 18730
BASE = f"http://127.0.0.1:{PORT}"


def request(method, path, body=None, token=None):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode() if body is not None else None, method=method,
                                 headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.load(response)


def parse_run(command, path):
    out = subprocess.run(["taskset", "-c", "0", "/usr/bin/time", "-f", "TIME %e %M", *command, path], capture_output=True, text=True)
    elapsed, rss_kb = re.search(r"TIME ([\d.]+) (\d+)", out.stderr).groups()
    return float(elapsed), int(rss_kb) / 1024


def main():
    work = tempfile.mkdtemp(prefix="guildhall-breakdowns-bench-")
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
               "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")}
    server = None
    try:
        log = make_log(work, 1024)
        size_mb = os.path.getsize(log) / 1048576
        binaries = {"previous": [build("previous", PREVIOUS, work)], "current": [build("current", None, work)]}
        runs = {name: [] for name in binaries}
        parse_run(binaries["current"], log)  # the page cache
        for round_number in range(ROUNDS):
            for name in (list(binaries) if round_number % 2 == 0 else list(reversed(binaries))):
                runs[name].append(parse_run(binaries[name], log))
        results["parse"] = {name: {"mb_s": round(size_mb / statistics.median(r[0] for r in rs), 1),
                                   "peak_rss_mb": round(max(r[1] for r in rs), 1), "seconds": [r[0] for r in rs]}
                            for name, rs in runs.items()}
        results["parse"]["previous_commit"] = PREVIOUS
        results["parse"]["current_vs_previous"] = round(results["parse"]["current"]["mb_s"] / results["parse"]["previous"]["mb_s"], 3)
        seconds, rss = parse_run([CURRENT, "combatlog", "parse"], log)
        results["parse"]["guildhall_combatlog_parse"] = {"seconds": seconds, "mb_s": round(size_mb / seconds, 1), "peak_rss_mb": round(rss, 1)}

        packed = log + ".gz"
        subprocess.run(["sh", "-c", f"gzip -c '{log}' > '{packed}'"], check=True)
        results["gzip"] = {"plain_mb": round(size_mb), "compressed_mb": round(os.path.getsize(packed) / 1048576, 1)}
        os.remove(log)

        server = start_server(CURRENT, work, PORT)
        admin = request("POST", "/api/auth/login", {"username": "admin", "password": ADMIN_PASS})["token"]
        guild = request("POST", "/api/v1/admin/guilds", {"name": "Bench", "server": "Bench", "region": "eu", "faction": "Horde"}, admin)
        key = request("POST", f"/api/v1/admin/guilds/{guild['id']}/api-keys",
                      {"description": "bench", "events_per_minute": 10**9, "requests_per_minute": 10**9}, admin)["api_key"]
        started = time.monotonic()
        answer = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {key}", "-H", "Content-Encoding: gzip",
                                 "-H", "X-File-Name: WoWCombatLog.txt.gz", "--data-binary", f"@{packed}", BASE + "/api/v1/logs/upload"],
                                capture_output=True, text=True).stdout
        stored = time.monotonic() - started
        upload = json.loads(answer)["upload_id"]
        while True:
            record = request("GET", f"/api/v1/logs/{upload}", token=key)["data"]
            if record["status"] in ("completed", "failed"):
                break
            time.sleep(0.05)
        results["gzip"].update({"stored_seconds": round(stored, 2), "parsed_seconds": round(time.monotonic() - started, 1),
                                "status": record["status"], "encounters": record["encounters"]})

        encounters = request("GET", "/api/v1/encounters?limit=1", token=key)["data"]["encounters"]
        encounter = encounters[0]["id"]
        results["endpoints"] = {}
        for path in ["abilities", "deaths", "interrupts", "timeline"]:
            url = f"{BASE}/api/v1/encounters/{encounter}/{path}"
            env = dict(os.environ, TOKEN=key)
            subprocess.run(["wrk", "-t2", "-c16", "-d2s", "-s", LUA, url], env=env, capture_output=True)
            out = subprocess.run(["wrk", "-t2", "-c16", "-d10s", "--latency", "-s", LUA, url], env=env, capture_output=True, text=True).stdout
            line = next(l for l in out.splitlines() if l.startswith("WRKRESULT"))
            figures = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}
            results["endpoints"][path] = {"req_s": round(figures["req_s"]), "p50_ms": figures["p50_ms"], "p99_ms": figures["p99_ms"],
                                          "non2xx": int(figures["non2xx"])}
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
