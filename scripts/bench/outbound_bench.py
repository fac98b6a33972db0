#!/usr/bin/env python3
"""Issue 11's target (docs/benchmarks.md), run by scripts/bench-outbound.sh on 127.0.0.1.

A cached GET /api/rocket-league/stats/{platform}/{username} (the profile answered from the outbound client's cache;
a fake Tracker Network on 127.0.0.1 answers the first call) against GET /api/health on the same server, wrk at 64
connections, 2 s warm-up + 10 s, alternated for ROUNDS rounds (default 5). Also reports server CPU time per request
(/proc/<pid>/stat), steadier than req/s when wrk shares the cores.
"""
import http.server, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LUA = os.path.join(ROOT, "scripts", "bench", "result.lua")
ROUNDS = int(os.environ.get("ROUNDS", "5"))
PORT, FAKE_PORT = 18690, 18691
ADMIN_PASS = "bench-admin-password"
TICK = os.sysconf("SC_CLK_TCK")

PROFILE = {"data": {"platformInfo": {"platformUserHandle": "Ace"}, "segments": [
    {"type": "playlist", "metadata": {"name": name},
     "stats": {"tier": {"metadata": {"name": tier, "iconUrl": f"https://trackercdn.test/{i}.png"}}, "division": {"value": 2},
               "rating": {"value": 1000 + 50 * i}}}
    for i, (name, tier) in enumerate([("Ranked Duel 1v1", "Diamond II"), ("Ranked Doubles 2v2", "Champion II"),
                                      ("Ranked Standard 3v3", "Champion I")])]}}


class FakeTracker(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(PROFILE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wrk(pid, path, token):
    env = dict(os.environ, TOKEN=token)
    url = f"http://127.0.0.1:{PORT}{path}"
    subprocess.run(["wrk", "-t2", "-c64", "-d2s", "-s", LUA, url], env=env, capture_output=True)
    before = cpu_seconds(pid)
    out = subprocess.run(["wrk", "-t2", "-c64", "-d10s", "--latency", "-s", LUA, url], env=env, capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - before
    result = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", next(l for l in out.splitlines() if l.startswith("WRKRESULT")))}
    result["cpu_us_per_request"] = cpu * 1e6 / max(1, result["requests"])
    return result


def main():
    fake = http.server.ThreadingHTTPServer(("127.0.0.1", FAKE_PORT), FakeTracker)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    work = tempfile.mkdtemp(prefix="guildhall-outbound-bench-")
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write(f"logging:\n  level: warning\nplugins:\n  enabled: [rocket_league]\n"
                f"rocket_league:\n  api_base_url: http://127.0.0.1:{FAKE_PORT}\n  rank_cache_ttl_seconds: 3600\n")
    env = dict(os.environ, API_ADMIN_USER="admin", API_ADMIN_PASS=ADMIN_PASS, DB_PATH=os.path.join(work, "guildhall.sqlite"),
               API_PORT=str(PORT))
    server = subprocess.Popen([os.path.join(ROOT, ".build", "release", "guildhall"), "serve", "--config", config], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "health": [], "stats": []}
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/health", timeout=1)
                break
            except Exception:
                time.sleep(0.05)
        login = urllib.request.Request(f"http://127.0.0.1:{PORT}/api/auth/login", method="POST",
                                       data=json.dumps({"username": "admin", "password": ADMIN_PASS}).encode(),
                                       headers={"Content-Type": "application/json"})
        token = json.load(urllib.request.urlopen(login))["token"]
        stats = "/api/rocket-league/stats/steam/Ace"
        first = json.load(urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{PORT}{stats}", headers={"Authorization": f"Bearer {token}"})))
        assert first["cached"] is False and first["ranks"]["2v2"]["tier"] == "Champion II", first
        for _ in range(ROUNDS):
            results["health"].append(wrk(server.pid, "/api/health", token))
            results["stats"].append(wrk(server.pid, stats, token))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        fake.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    med = lambda runs, key: statistics.median(r[key] for r in runs)
    for name in ("health", "stats"):
        runs = results[name]
        print(f"{name:7s} req/s " + ", ".join(f"{r['req_s']:.0f}" for r in runs) + f"  p99 {med(runs, 'p99_ms'):.2f} ms"
              f"  {med(runs, 'cpu_us_per_request'):.1f} us CPU/request  non-2xx {sum(r['non2xx'] for r in runs):.0f}")
    print(f"cached stats = {100 * med(results['stats'], 'req_s') / med(results['health'], 'req_s'):.0f}% of health (target >= 70%)")


if __name__ == "__main__":
    main()
