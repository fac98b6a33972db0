#!/usr/bin/env python3
"""History and search latency on a live log of N stored messages, over the gateway (see docs/benchmarks.md).

Seeds the server's SQLite file directly with N user messages (a realistic word mix, 1 in 500 mentioning "dragon"),
then times get_history (limit 100, several offsets and filters) and search over one WebSocket connection.
Usage: live_log_queries.py --db PATH --url ws://127.0.0.1:PORT/ws/live-log --token JWT [--messages 100000]
"""
import argparse, asyncio, json, random, sqlite3, statistics, time, uuid

from websockets.asyncio.client import connect

WORDS = "raid boss guild loot tank healer mana pull wipe kill epic mythic heroic potion flask portal quest gold".split()


def seed(path, count):
    db = sqlite3.connect(path)
    random.seed(7)
    start = time.time() - count  # one message a second, ending now
    rows, texts = [], []
    for i in range(count):
        words = [random.choice(WORDS) for _ in range(8)] + (["dragon"] if i % 500 == 0 else [])
        content = " ".join(words)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + i)) + ".000Z"
        mid = f"msg_{uuid.UUID(int=random.getrandbits(128))}"
        body = json.dumps({"type": "user", "id": mid, "timestamp": ts, "user_id": f"u{i % 200}", "username": f"user{i % 200}",
                           "content": content, "metadata": {"channel": ["general", "raid", "trade"][i % 3]}}, separators=(",", ":"))
        rows.append((mid, "user", ts, f"u{i % 200}", None, ["general", "raid", "trade"][i % 3], None, "all", body))
        texts.append(f"user{i % 200} {content}")
    with db:
        cursor = db.execute("SELECT COALESCE(MAX(seq), 0) FROM live_log_messages")
        first = cursor.fetchone()[0] + 1
        db.executemany("INSERT INTO live_log_messages (id, type, timestamp, author_id, recipient_id, channel, guild_id, audience, body)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO live_log_search (rowid, text) VALUES (?, ?)", [(first + i, t) for i, t in enumerate(texts)])
    db.close()


async def timed(ws, frame, expect, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await ws.send(json.dumps(frame))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("action") in (expect, "error"):
                break
        if reply.get("action") == "error":
            raise SystemExit(f"error for {frame}: {reply}")
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
            "max_ms": round(times[-1], 2), "last_reply": reply}


async def measure(url, token, runs):
    async with connect(f"{url}?token={token}", max_size=2**24) as ws:
        json.loads(await ws.recv())
        cases = {
            "history limit 100 (newest)": ({"action": "get_history", "limit": 100}, "history"),
            "history limit 100 offset 50000": ({"action": "get_history", "limit": 100, "offset": 50000}, "history"),
            "history limit 100 user_id filter": ({"action": "get_history", "limit": 100, "filters": {"user_id": "u7"}}, "history"),
            "history limit 100 channel + date": ({"action": "get_history", "limit": 100,
                                                  "filters": {"channel": "raid", "date_from": "2000-01-01T00:00:00Z"}}, "history"),
            "search 'dragon' (rare word)": ({"action": "search", "query": "dragon", "limit": 50}, "search_results"),
            "search 'raid boss' (common words)": ({"action": "search", "query": "raid boss", "limit": 50}, "search_results"),
        }
        for name, (frame, expect) in cases.items():
            result = await timed(ws, frame, expect, runs)
            reply = result.pop("last_reply")
            size = reply.get("total_count", reply.get("count"))
            print(f"{name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, max {result['max_ms']} ms (matches {size})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=50)
    a = ap.parse_args()
    started = time.time()
    seed(a.db, a.messages)
    print(f"seeded {a.messages} messages in {time.time() - started:.1f}s")
    asyncio.run(measure(a.url, a.token, a.runs))


if __name__ == "__main__":
    main()
