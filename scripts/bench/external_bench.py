#!/usr/bin/env python3
"""Issue 14's targets (docs/benchmarks.md), run by scripts/bench-external.sh on 127.0.0.1.

One release build of Benchmarks/ExternalRoute (the guildhall host plus a one-route in-process cog) serves, in the same
process and the same run:
  - GET /api/inproc/ping      the trivial route in process ({"pong": true})
  - GET /api/counter/ping     the same answer from examples/node-counter (Node, no packages)
  - GET /api/probe/public     a trivial route of the Python test cog (Tests/Fixtures/external-cogs/probe, on the SDK)

1. Throughput: wrk, 64 connections, 2 s warm-up + 10 s, alternating the three routes for ROUNDS rounds (default 5).
   Target: the external route reaches at least 25% of the in-process one.
2. Back in service after a crash: POST /api/probe/crash kills the Python cog; the time from that answer until
   GET /api/probe/public answers 200 again, polled every 5 ms. SAMPLES times (default 20); the cog is reloaded between
   samples so each is a first crash (the third within ten minutes marks a cog failed). Target: under 1 s.
3. Reload under load: wrk at 64 connections for 12 s on each external route while the cog is reloaded every second;
   every answer must be a 200 (wrk's non-2xx and socket errors both 0).
"""
import json, os, re, shutil, statistics, subprocess, tempfile, threading, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LUA = os.path.join(ROOT, "scripts", "bench", "result.lua")
ROUNDS = int(os.environ.get("ROUNDS", "5"))
SAMPLES = int(os.environ.get("SAMPLES", "20"))
PORT = 18720
ADMIN_PASS = "bench-admin-password"
ROUTES = {"in process": "/api/inproc/ping", "external (Node)": "/api/counter/ping", "external (Python SDK)": "/api/probe/public"}


def call(method, path, token=None, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, b""


def wrk(path, seconds=10, warm=True):
    url = f"http://127.0.0.1:{PORT}{path}"
    if warm:
        subprocess.run(["wrk", "-t2", "-c64", "-d2s", "-s", LUA, url], capture_output=True)
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-s", LUA, url], capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKRESULT"))
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


def main():
    work = tempfile.mkdtemp(prefix="guildhall-external-bench-")
    plugins = os.path.join(work, "plugins")
    os.makedirs(plugins)
    subprocess.run(["cp", "-RL", os.path.join(ROOT, "examples", "node-counter"), os.path.join(plugins, "counter")], check=True)
    subprocess.run(["cp", "-RL", os.path.join(ROOT, "Tests", "Fixtures", "external-cogs", "probe"), os.path.join(plugins, "probe")], check=True)
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write(f"server: {{port: {PORT}}}\ndatabase: {{path: {work}/guildhall.sqlite}}\n"
                "plugins: {enabled: [inproc, counter, probe]}\nlogging: {level: error}\n"
                )
    server = subprocess.Popen([os.path.join(ROOT, ".build", "release", "bench-external"), "serve", "--config", config],
                              env=dict(os.environ, API_ADMIN_PASS=ADMIN_PASS), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if all(call("GET", path)[0] == 200 for path in ROUTES.values()):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("the server or its cogs did not come up")
        token = json.loads(call("POST", "/api/auth/login", body={"username": "admin", "password": ADMIN_PASS})[1])["token"]
        results = {"machine": f"{os.cpu_count()} vCPU, {platform()}", "date": time.strftime("%Y-%m-%d")}

        rounds = {name: [] for name in ROUTES}
        for _ in range(ROUNDS):
            for name, path in ROUTES.items():
                rounds[name].append(wrk(path))
        throughput = {}
        for name, runs in rounds.items():
            throughput[name] = {"req_s_median": round(statistics.median(r["req_s"] for r in runs)),
                                "p99_ms_median": round(statistics.median(r["p99_ms"] for r in runs), 2),
                                "non2xx": sum(int(r["non2xx"]) for r in runs), "sock_err": sum(int(r["sock_err"]) for r in runs)}
        base = throughput["in process"]["req_s_median"]
        for name in ROUTES:
            throughput[name]["share_of_in_process"] = round(throughput[name]["req_s_median"] / base, 3)
        results["throughput_64_connections"] = throughput

        recoveries = []
        for _ in range(SAMPLES):
            status, _ = call("POST", "/api/probe/crash")
            crashed = time.perf_counter()
            assert status == 502, status
            while call("GET", "/api/probe/public")[0] != 200:
                time.sleep(0.005)
            recoveries.append(time.perf_counter() - crashed)
            assert call("POST", "/api/cogs/probe/reload", token)[0] == 200
        ordered = sorted(recoveries)
        results["back_in_service_after_crash"] = {
            "p50_ms": round(statistics.median(ordered) * 1000, 1), "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1), "samples": len(ordered)}

        reloads = {}
        for cog, path in (("counter", "/api/counter/ping"), ("probe", "/api/probe/public")):
            done = threading.Event()
            outcomes = []

            def reload_every_second():
                time.sleep(1)
                while not done.is_set():
                    outcomes.append(call("POST", f"/api/cogs/{cog}/reload", token)[0])
                    time.sleep(1)
            reloader = threading.Thread(target=reload_every_second)
            reloader.start()
            result = wrk(path, seconds=12, warm=False)
            done.set()
            reloader.join()
            reloads[cog] = {"requests": int(result["requests"]), "non2xx": int(result["non2xx"]),
                            "sock_err": int(result["sock_err"]), "reloads": len(outcomes),
                            "reloads_ok": outcomes.count(200), "req_s": round(result["req_s"])}
        results["reload_under_load"] = reloads
        print(json.dumps(results, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def platform():
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        model = "unknown CPU"
    return model


if __name__ == "__main__":
    main()
