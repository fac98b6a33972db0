#!/usr/bin/env python3
"""Measures the host's targets with real processes on 127.0.0.1 (see docs/benchmarks.md).

1. GET /api/health on guildhall vs GET / on a bare Hummingbird hello-world, wrk at 64 connections, alternated.
2. 100 cog reloads (POST /api/cogs/reload) while wrk loads the reloaded cog's route and /api/health.
3. Cold start to the first answered request, and resident memory when idle.
4. What a guild API key costs: GET /api/v1/guild with a key (hash, key and guild lookup, guild resolution, token
   buckets) vs the public GET /api/health, one connection each so the p50 latencies compare per-request work.
"""
import json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, ".build", "release")
LUA = os.path.join(ROOT, "scripts", "bench", "result.lua")
QUICK = "--quick" in sys.argv
DURATION = "5s" if QUICK else "10s"
ADMIN_PASS = "bench-admin-password"


def wait_for(url, timeout=15.0):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except Exception:
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def start_guildhall(folder, port):
    env = dict(os.environ, API_ADMIN_PASS=ADMIN_PASS, API_ADMIN_USER="admin", DB_PATH=os.path.join(folder, "g.sqlite"),
               API_PORT=str(port))
    config = os.path.join(folder, "config.yaml")
    with open(config, "w") as f:
        f.write("logging:\n  level: warning\nplugins:\n  enabled: [tickets, memes, rocket_league, combatlog]\n")
    started = time.monotonic()
    process = subprocess.Popen([os.path.join(BIN, "guildhall"), "serve", "--config", config], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, started


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def wrk(url, duration=DURATION, connections=64, token=None, threads=2):
    env = dict(os.environ, TOKEN=token or "")
    out = subprocess.run(["timeout", "60", "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency", "-s", LUA, url],
                         env=env, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKRESULT"))
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


def request(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.load(response)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    folder = tempfile.mkdtemp(prefix="guildhall-bench-")
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
               "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")}
    try:
        # 1. Health beside the baseline, alternated so drift hits both.
        hello = subprocess.Popen([os.path.join(BIN, "hello-baseline"), "18091"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        guildhall, _ = start_guildhall(folder, 18090)
        wait_for("http://127.0.0.1:18091/")
        wait_for("http://127.0.0.1:18090/api/health")
        wrk("http://127.0.0.1:18091/", "2s"), wrk("http://127.0.0.1:18090/api/health", "2s")  # warm up
        rounds = 1 if QUICK else 3
        base, ours = [], []
        for _ in range(rounds):
            base.append(wrk("http://127.0.0.1:18091/"))
            ours.append(wrk("http://127.0.0.1:18090/api/health"))
        hello.send_signal(signal.SIGTERM)
        hello.wait(timeout=10)
        results["health"] = {"baseline": base, "guildhall": ours,
                             "ratio": statistics.median(o["req_s"] for o in ours) / statistics.median(b["req_s"] for b in base)}

        # 2. Reloads under load.
        token = request("POST", "http://127.0.0.1:18090/api/auth/login", {"username": "admin", "password": ADMIN_PASS})["token"]
        loads = [subprocess.Popen(["timeout", "120", "wrk", "-t1", "-c16", "-d30s", "-s", LUA, url], env=dict(os.environ, TOKEN=token),
                                  stdout=subprocess.PIPE, text=True)
                 for url in ("http://127.0.0.1:18090/api/memes/sources", "http://127.0.0.1:18090/api/health")]
        time.sleep(1)
        durations, failed_reloads = [], 0
        for _ in range(100):
            start = time.monotonic()
            answer = request("POST", "http://127.0.0.1:18090/api/cogs/reload", {"cog_name": "memes"}, token)
            durations.append((time.monotonic() - start) * 1000)
            failed_reloads += answer.get("state") != "loaded"
        reload_window = sum(durations) / 1000
        for load in loads:
            load.send_signal(signal.SIGINT)
        summaries = []
        for load in loads:
            out = load.communicate(timeout=60)[0]
            line = next(l for l in out.splitlines() if l.startswith("WRKRESULT"))
            summaries.append({k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)})
        results["reload"] = {"p50_ms": percentile(durations, 50), "p95_ms": percentile(durations, 95),
                             "max_ms": max(durations), "failed_reloads": failed_reloads, "window_s": reload_window,
                             "cog_route": summaries[0], "other_route": summaries[1]}

        # 4. Key authentication and guild resolution, side by side with a public route. The guild's and the key's
        # budgets are raised so the buckets are consulted but never refuse.
        base_url = "http://127.0.0.1:18090"
        guild = request("POST", f"{base_url}/api/v1/admin/guilds", {"name": "Bench", "server": "Local", "region": "eu",
                        "faction": "Horde", "settings": {"rate_limits": {"requests_per_minute": 10**9}}}, token)
        key = request("POST", f"{base_url}/api/v1/admin/guilds/{guild['id']}/api-keys",
                      {"description": "bench", "requests_per_minute": 10**9}, token)["api_key"]
        wrk(f"{base_url}/api/v1/guild", "2s", 1, key, 1), wrk(f"{base_url}/api/health", "2s", 1, None, 1)  # warm up
        public, keyed = [], []
        for _ in range(1 if QUICK else 3):
            public.append(wrk(f"{base_url}/api/health", connections=1, threads=1))
            keyed.append(wrk(f"{base_url}/api/v1/guild", connections=1, token=key, threads=1))
        results["api_key"] = {"public": public, "keyed": keyed,
                              "added_p50_us": (statistics.median(k["p50_ms"] for k in keyed)
                                               - statistics.median(p["p50_ms"] for p in public)) * 1000}
        stop(guildhall)

        # 3. Cold start (an existing database, as on every restart but the first) and idle memory.
        starts = []
        for _ in range(3 if QUICK else 5):
            process, started = start_guildhall(folder, 18092)
            wait_for("http://127.0.0.1:18092/api/health")
            starts.append((time.monotonic() - started) * 1000)
            time.sleep(2)
            rss = int(next(l.split()[1] for l in open(f"/proc/{process.pid}/status") if l.startswith("VmRSS")))
            stop(process)
        results["cold_start_ms"] = starts
        results["idle_rss_mb"] = rss / 1024
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    h = results["health"]
    print(json.dumps(results, indent=2))
    print()
    print(f"health: guildhall {statistics.median(o['req_s'] for o in h['guildhall']):.0f} req/s vs baseline "
          f"{statistics.median(b['req_s'] for b in h['baseline']):.0f} req/s = {h['ratio'] * 100:.0f}% (target >= 80%)")
    r = results["reload"]
    print(f"reload: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms (target < 50), max {r['max_ms']:.1f} ms; "
          f"during it: cog route {r['cog_route']['requests']:.0f} requests, non-2xx {r['cog_route']['non2xx']:.0f}, "
          f"socket errors {r['cog_route']['sock_err']:.0f}; health {r['other_route']['requests']:.0f} requests, "
          f"non-2xx {r['other_route']['non2xx']:.0f}, socket errors {r['other_route']['sock_err']:.0f}")
    k = results["api_key"]
    print(f"api key: p50 {statistics.median(x['p50_ms'] for x in k['keyed']) * 1000:.0f} us with a key vs "
          f"{statistics.median(x['p50_ms'] for x in k['public']) * 1000:.0f} us public = "
          f"+{k['added_p50_us']:.0f} us (target < 50); non-2xx {sum(x['non2xx'] for x in k['keyed']):.0f}")
    print(f"cold start to first answer: {', '.join(f'{s:.0f}' for s in results['cold_start_ms'])} ms (target < 1000); "
          f"idle RSS {results['idle_rss_mb']:.1f} MB (target < 50)")


if __name__ == "__main__":
    main()
