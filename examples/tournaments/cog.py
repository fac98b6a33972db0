"""Tournaments: an external Guildhall cog in Python (document 002's tournament management).

Every tournament belongs to the guild the host signed into the request; nothing here reads a guild from a
parameter. Data lives in SQLite in the folder the host gives the cog (GUILDHALL_DATA_DIR).
"""

import datetime
import os
import sqlite3
import threading

from guildhall_cog import CommandError, HTTPError, Cog, host

FORMATS = ("single_elimination", "double_elimination", "round_robin", "swiss")
STATUSES = ("draft", "registration_open", "check_in", "in_progress", "completed", "cancelled")
#: Where each status may go next.
TRANSITIONS = {
    "draft": {"registration_open", "cancelled"},
    "registration_open": {"draft", "check_in", "in_progress", "cancelled"},
    "check_in": {"registration_open", "in_progress", "cancelled"},
    "in_progress": {"completed", "cancelled"},
    "completed": set(),
    "cancelled": set(),
}
MAX_PER_PAGE = 100

cog = Cog()


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """The cog's SQLite file; one connection shared under a lock (the server answers on several threads)."""

    def __init__(self, path):
        self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.connection.row_factory = sqlite3.Row
        self.lock = threading.Lock()
        with self.lock:
            self.connection.executescript("""
                PRAGMA journal_mode = WAL;
                PRAGMA foreign_keys = ON;
                CREATE TABLE IF NOT EXISTS tournaments (
                    id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, name TEXT NOT NULL, game TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '', format TEXT NOT NULL, status TEXT NOT NULL,
                    max_participants INTEGER NOT NULL, starts_at TEXT, check_in_required INTEGER NOT NULL,
                    created_by INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS tournaments_by_guild ON tournaments (guild_id, id);
                CREATE TABLE IF NOT EXISTS registrations (
                    tournament_id INTEGER NOT NULL REFERENCES tournaments (id) ON DELETE CASCADE,
                    user_id INTEGER NOT NULL, username TEXT NOT NULL, status TEXT NOT NULL,
                    registered_at TEXT NOT NULL, checked_in_at TEXT, seq INTEGER NOT NULL,
                    PRIMARY KEY (tournament_id, user_id));
            """)

    def run(self, body):
        """Runs ``body(connection)`` in one transaction."""
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                result = body(self.connection)
                self.connection.execute("COMMIT")
                return result
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise


store = None


def get_store():
    global store
    if store is None:
        store = Store(os.path.join(os.environ.get("GUILDHALL_DATA_DIR", "."), "tournaments.sqlite"))
    return store


# Reading and checking input


def tournament_json(row, counts=None):
    item = {key: row[key] for key in row.keys() if key != "guild_id"}
    item["check_in_required"] = bool(item["check_in_required"])
    if counts is not None:
        item["participants"] = counts.get("participants", 0)
        item["waitlisted"] = counts.get("waitlisted", 0)
    return item


def counts_of(connection, tournament_id):
    rows = connection.execute(
        "SELECT status, COUNT(*) AS n FROM registrations WHERE tournament_id = ? GROUP BY status", (tournament_id,))
    by_status = {row["status"]: row["n"] for row in rows}
    return {"participants": by_status.get("registered", 0) + by_status.get("checked_in", 0),
            "waitlisted": by_status.get("waitlisted", 0), "checked_in": by_status.get("checked_in", 0),
            "withdrawn": by_status.get("withdrawn", 0)}


def find(connection, guild_id, tournament_id):
    row = connection.execute("SELECT * FROM tournaments WHERE id = ? AND guild_id = ?", (tournament_id, guild_id)).fetchone()
    if row is None:  # another guild's tournament is as absent as one that never was
        raise HTTPError(404, "tournament_not_found", f"There is no tournament {tournament_id}.")
    return row


def require_guild(request):
    if request.guild_id is None:
        raise HTTPError(400, "guild_required", "Name the guild (X-Guild-Id) you act in.")
    return request.guild_id


def target(request):
    """The caller's guild and the tournament the path names."""
    return require_guild(request), int(request.params["id"])


def require_person(request):
    if not request.identity or request.identity.get("api_key"):
        raise HTTPError(403, "person_required", "Only a signed-in person registers for a tournament.")
    return request.identity["user_id"], request.identity["username"]


def fields(body, allowed, required=()):
    if not isinstance(body, dict):
        raise HTTPError(400, "invalid_json", "Send a JSON object.")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise HTTPError(400, "invalid_field", f"Unknown field {unknown[0]}.", field=unknown[0])
    for name in required:
        if name not in body:
            raise HTTPError(400, "invalid_field", f"{name} is required.", field=name)
    checked = {}
    for name, value in body.items():
        kind = allowed[name]
        if kind == "text":
            if not isinstance(value, str) or not value.strip() or len(value) > 200:
                raise HTTPError(400, "invalid_field", f"{name} must be text of 1 to 200 characters.", field=name)
            value = value.strip()
        elif kind == "long_text":
            if not isinstance(value, str) or len(value) > 4000:
                raise HTTPError(400, "invalid_field", f"{name} must be text of at most 4000 characters.", field=name)
        elif kind == "count":
            if not isinstance(value, int) or isinstance(value, bool) or not 2 <= value <= 1024:
                raise HTTPError(400, "invalid_field", f"{name} must be a whole number from 2 to 1024.", field=name)
        elif kind == "flag":
            if not isinstance(value, bool):
                raise HTTPError(400, "invalid_field", f"{name} must be true or false.", field=name)
        elif kind == "time":
            try:
                datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            except (TypeError, ValueError):
                raise HTTPError(400, "invalid_field", f"{name} must be a UTC time like 2026-12-01T18:00:00Z.", field=name)
        elif isinstance(kind, tuple) and value not in kind:
            raise HTTPError(400, "invalid_field", f"{name} must be one of {', '.join(kind)}.", field=name)
        checked[name] = value
    return checked


def announce(guild_id, tournament_id, change, detail):
    """Tells the guild: an event on the bus, a frame to the tournament's gateway topic."""
    host.publish(f"tournament.{change}", {"tournament_id": tournament_id, **detail}, guild_id=guild_id)
    host.send_topic(f"tournament:{tournament_id}", {"action": f"tournament_{change}", "tournament_id": tournament_id, **detail})


def promote_waitlist(connection, tournament):
    """Moves people from the waitlist into free places, first come first served; answers who moved."""
    counts = counts_of(connection, tournament["id"])
    free = tournament["max_participants"] - counts["participants"]
    if free <= 0:
        return []
    rows = connection.execute(
        "SELECT user_id, username FROM registrations WHERE tournament_id = ? AND status = 'waitlisted' ORDER BY seq LIMIT ?",
        (tournament["id"], free)).fetchall()
    for row in rows:
        connection.execute("UPDATE registrations SET status = 'registered' WHERE tournament_id = ? AND user_id = ?",
                           (tournament["id"], row["user_id"]))
    return [{"user_id": row["user_id"], "username": row["username"]} for row in rows]


# Tournaments


@cog.route("GET", "/api/v1/tournaments")
def list_tournaments(request):
    guild = require_guild(request)
    page = max(1, int(request.arg("page", "1")))
    per_page = min(MAX_PER_PAGE, max(1, int(request.arg("per_page", "20"))))
    where, arguments = ["guild_id = ?"], [guild]
    status = request.arg("status")
    if status is not None:
        if status not in STATUSES:
            raise HTTPError(400, "invalid_field", f"status must be one of {', '.join(STATUSES)}.", field="status")
        where.append("status = ?")
        arguments.append(status)
    if request.arg("game"):
        where.append("game = ? COLLATE NOCASE")
        arguments.append(request.arg("game"))
    if request.arg("search"):
        where.append("(name LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')")
        pattern = "%" + request.arg("search").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        arguments += [pattern, pattern]
    clause = " AND ".join(where)

    def read(connection):
        total = connection.execute(f"SELECT COUNT(*) FROM tournaments WHERE {clause}", arguments).fetchone()[0]
        rows = connection.execute(
            f"SELECT * FROM tournaments WHERE {clause} ORDER BY id DESC LIMIT ? OFFSET ?",
            arguments + [per_page, (page - 1) * per_page]).fetchall()
        return total, [tournament_json(row, counts_of(connection, row["id"])) for row in rows]
    total, items = get_store().run(read)
    return {"items": items, "pagination": {"page": page, "per_page": per_page, "total": total,
                                           "pages": (total + per_page - 1) // per_page}}


CREATE_FIELDS = {"name": "text", "game": "text", "description": "long_text", "format": FORMATS,
                 "max_participants": "count", "starts_at": "time", "check_in_required": "flag"}


@cog.route("POST", "/api/v1/tournaments")
def create_tournament(request):
    guild = require_guild(request)
    body = fields(request.json(), CREATE_FIELDS, required=("name", "game"))
    settings = host.config(guild_id=guild)
    stamp = now()

    def insert(connection):
        cursor = connection.execute(
            """INSERT INTO tournaments (guild_id, name, game, description, format, status, max_participants, starts_at,
               check_in_required, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?)""",
            (guild, body["name"], body["game"], body.get("description", ""), body.get("format", "single_elimination"),
             body.get("max_participants", settings["default_max_participants"]), body.get("starts_at"),
             int(body.get("check_in_required", False)), request.user_id, stamp, stamp))
        return tournament_json(find(connection, guild, cursor.lastrowid), {})
    tournament = get_store().run(insert)
    host.publish("tournament.created", {"tournament_id": tournament["id"], "name": tournament["name"]}, guild_id=guild)
    if settings["announce_in_live_log"]:  # a guild message: only the guild's members read it
        host.live_log({"type": "guild", "guild_id": str(guild), "guild_name": request.guild["name"],
                       "event": f"New tournament: {tournament['name']}"})
    return 201, tournament


@cog.route("GET", "/api/v1/tournaments/{id}")
def get_tournament(request):
    guild, tournament_id = target(request)
    return get_store().run(lambda c: tournament_json(find(c, guild, tournament_id), counts_of(c, tournament_id)))


@cog.route("PUT", "/api/v1/tournaments/{id}")
def update_tournament(request):
    guild, tournament_id = target(request)
    body = fields(request.json(), {**CREATE_FIELDS, "status": STATUSES})

    def change(connection):
        current = find(connection, guild, tournament_id)
        status = body.get("status", current["status"])
        if status != current["status"] and status not in TRANSITIONS[current["status"]]:
            raise HTTPError(409, "invalid_transition", f"A {current['status']} tournament cannot become {status}.")
        counts = counts_of(connection, tournament_id)
        if body.get("max_participants", current["max_participants"]) < counts["participants"]:
            raise HTTPError(409, "too_many_participants",
                            f"{counts['participants']} people are registered; withdraw some before shrinking it.")
        values = {**body, "status": status, "updated_at": now()}
        if "check_in_required" in values:
            values["check_in_required"] = int(values["check_in_required"])
        assignments = ", ".join(f"{name} = ?" for name in values)
        connection.execute(f"UPDATE tournaments SET {assignments} WHERE id = ?", list(values.values()) + [tournament_id])
        updated = find(connection, guild, tournament_id)
        promoted = promote_waitlist(connection, updated)
        return tournament_json(updated, counts_of(connection, tournament_id)), promoted
    tournament, promoted = get_store().run(change)
    announce(guild, tournament_id, "updated", {"status": tournament["status"]})
    for person in promoted:
        announce(guild, tournament_id, "promoted", person)
    return tournament


@cog.route("DELETE", "/api/v1/tournaments/{id}")
def delete_tournament(request):
    guild, tournament_id = target(request)

    def delete(connection):
        find(connection, guild, tournament_id)
        connection.execute("DELETE FROM tournaments WHERE id = ?", (tournament_id,))
    get_store().run(delete)
    announce(guild, tournament_id, "deleted", {})
    return 204, None


# Registration


@cog.route("POST", "/api/v1/tournaments/{id}/registration")
def register(request):
    guild, tournament_id = target(request)
    user_id, username = require_person(request)

    def join(connection):
        tournament = find(connection, guild, tournament_id)
        if tournament["status"] != "registration_open":
            raise HTTPError(409, "registration_closed", "Registration is not open for this tournament.")
        existing = connection.execute(
            "SELECT status FROM registrations WHERE tournament_id = ? AND user_id = ?", (tournament_id, user_id)).fetchone()
        if existing is not None and existing["status"] != "withdrawn":
            raise HTTPError(409, "already_registered", f"You are already {existing['status']}.")
        full = counts_of(connection, tournament_id)["participants"] >= tournament["max_participants"]
        status = "waitlisted" if full else "registered"
        seq = connection.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM registrations WHERE tournament_id = ?",
                                 (tournament_id,)).fetchone()[0]
        connection.execute(
            """INSERT INTO registrations (tournament_id, user_id, username, status, registered_at, seq) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (tournament_id, user_id) DO UPDATE SET status = excluded.status,
               registered_at = excluded.registered_at, checked_in_at = NULL, seq = excluded.seq""",
            (tournament_id, user_id, username, status, now(), seq))
        position = None
        if full:
            position = connection.execute(
                "SELECT COUNT(*) FROM registrations WHERE tournament_id = ? AND status = 'waitlisted' AND seq <= ?",
                (tournament_id, seq)).fetchone()[0]
        return {"tournament_id": tournament_id, "status": status, "waitlist_position": position}
    answer = get_store().run(join)
    announce(guild, tournament_id, "registered", {"user_id": user_id, "status": answer["status"]})
    return 201, answer


@cog.route("DELETE", "/api/v1/tournaments/{id}/registration")
def withdraw(request):
    guild, tournament_id = target(request)
    user_id, _ = require_person(request)

    def leave(connection):
        tournament = find(connection, guild, tournament_id)
        if tournament["status"] in ("in_progress", "completed", "cancelled"):
            raise HTTPError(409, "registration_closed", "The tournament has begun or ended.")
        changed = connection.execute(
            "UPDATE registrations SET status = 'withdrawn' WHERE tournament_id = ? AND user_id = ? AND status != 'withdrawn'",
            (tournament_id, user_id)).rowcount
        if not changed:
            raise HTTPError(404, "not_registered", "You are not registered for this tournament.")
        return promote_waitlist(connection, tournament)
    promoted = get_store().run(leave)
    announce(guild, tournament_id, "withdrawn", {"user_id": user_id})
    for person in promoted:
        announce(guild, tournament_id, "promoted", person)
    return {"tournament_id": tournament_id, "status": "withdrawn", "promoted": promoted}


@cog.route("POST", "/api/v1/tournaments/{id}/check-in")
def check_in(request):
    guild, tournament_id = target(request)
    user_id, _ = require_person(request)

    def arrive(connection):
        tournament = find(connection, guild, tournament_id)
        if tournament["status"] != "check_in":
            raise HTTPError(409, "check_in_closed", "Check-in is not open for this tournament.")
        row = connection.execute("SELECT status FROM registrations WHERE tournament_id = ? AND user_id = ?",
                                 (tournament_id, user_id)).fetchone()
        if row is None or row["status"] == "withdrawn":
            raise HTTPError(404, "not_registered", "You are not registered for this tournament.")
        if row["status"] == "waitlisted":
            raise HTTPError(409, "waitlisted", "You are on the waitlist; only participants check in.")
        stamp = now()
        connection.execute("UPDATE registrations SET status = 'checked_in', checked_in_at = COALESCE(checked_in_at, ?) "
                           "WHERE tournament_id = ? AND user_id = ?", (stamp, tournament_id, user_id))
        return {"tournament_id": tournament_id, "status": "checked_in"}
    answer = get_store().run(arrive)
    announce(guild, tournament_id, "checked_in", {"user_id": user_id})
    return answer


@cog.route("GET", "/api/v1/tournaments/{id}/participants")
def participants(request):
    guild, tournament_id = target(request)

    def read(connection):
        find(connection, guild, tournament_id)
        rows = connection.execute(
            "SELECT user_id, username, status, registered_at, checked_in_at FROM registrations "
            "WHERE tournament_id = ? AND status != 'withdrawn' ORDER BY seq", (tournament_id,)).fetchall()
        people = [dict(row) for row in rows]
        return {"participants": [p for p in people if p["status"] != "waitlisted"],
                "waitlist": [p for p in people if p["status"] == "waitlisted"]}
    return get_store().run(read)


@cog.route("GET", "/api/v1/tournaments/{id}/statistics")
def statistics(request):
    guild, tournament_id = target(request)

    def read(connection):
        tournament = find(connection, guild, tournament_id)
        counts = counts_of(connection, tournament_id)
        capacity = tournament["max_participants"]
        return {"tournament_id": tournament_id, "status": tournament["status"], "capacity": capacity,
                "participants": counts["participants"], "waitlisted": counts["waitlisted"],
                "checked_in": counts["checked_in"], "withdrawn": counts["withdrawn"],
                "open_places": max(0, capacity - counts["participants"]),
                "fill_rate": round(counts["participants"] / capacity, 4),
                "check_in_rate": round(counts["checked_in"] / counts["participants"], 4) if counts["participants"] else 0.0}
    return get_store().run(read)


# Gateway, chat and schedule


@cog.action("tournament_watch")
def watch(call):
    """``{"action": "tournament_watch", "tournament_id": 12}``: the caller's connection gets the tournament's frames."""
    if call.guild_id is None:
        raise HTTPError(400, "guild_required", "Connect for a guild to watch its tournaments.")
    tournament_id = call.frame.get("tournament_id")
    if not isinstance(tournament_id, int):
        raise HTTPError(400, "invalid_field", "tournament_id must be an integer.", field="tournament_id")
    get_store().run(lambda c: find(c, call.guild_id, tournament_id))
    return {"action": "tournament_watching", "tournament_id": tournament_id, "join_topics": [f"tournament:{tournament_id}"]}



@cog.command("tournaments")
def tournaments_command(invocation):
    if invocation.guild_id is None:
        raise CommandError("Name the guild you chat in.")
    rows = get_store().run(lambda c: c.execute(
        "SELECT id, name, game, max_participants FROM tournaments WHERE guild_id = ? AND status = 'registration_open' "
        "ORDER BY id LIMIT 10", (invocation.guild_id,)).fetchall())
    if not rows:
        return "No tournament is open for registration."
    return "Open for registration: " + "; ".join(f"#{r['id']} {r['name']} ({r['game']})" for r in rows)


@cog.every("start-due")
def start_due(guild_id):
    """Starts the guild's tournaments whose start time has passed (the host runs this every minute per guild)."""
    stamp = now()

    def start(connection):
        rows = connection.execute(
            "SELECT id FROM tournaments WHERE guild_id = ? AND status IN ('registration_open', 'check_in') "
            "AND starts_at IS NOT NULL AND starts_at <= ?", (guild_id, stamp)).fetchall()
        for row in rows:
            connection.execute("UPDATE tournaments SET status = 'in_progress', updated_at = ? WHERE id = ?", (stamp, row["id"]))
        return [row["id"] for row in rows]
    for tournament_id in get_store().run(start):
        announce(guild_id, tournament_id, "started", {})


if __name__ == "__main__":
    cog.serve()
