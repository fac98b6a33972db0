"""The tournaments cog's own tests: its handlers through the SDK, with the SDK's host double for callbacks.
End to end through a real host: Tests/HostTests/TournamentsExampleTests.swift."""

import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
FOLDER = tempfile.mkdtemp()
os.environ.update(GUILDHALL_DATA_DIR=FOLDER, GUILDHALL_SECRET="secret", GUILDHALL_HOST_SOCKET=os.path.join(FOLDER, "host.sock"))

import cog as tournaments  # noqa: E402
from guildhall_cog import HostDouble, signed_headers  # noqa: E402

GUILD = {"id": 1, "name": "Loothing"}
OTHER = {"id": 2, "name": "Elsewhere"}
MOD = {"user_id": 2, "username": "mod", "role": "moderator"}


def person(number):
    return {"user_id": 100 + number, "username": f"player{number}", "role": "user"}


class TournamentTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.double = HostDouble(os.environ["GUILDHALL_HOST_SOCKET"], secret="secret",
                                config={"default_max_participants": 32, "announce_in_live_log": True})

    @classmethod
    def tearDownClass(cls):
        cls.double.close()

    def call(self, method, target, body=None, identity=MOD, guild=GUILD):
        payload = b"" if body is None else json.dumps(body).encode()
        status, _, data = tournaments.cog.handle(method, target, signed_headers("secret", method, target, identity, guild), payload)
        return status, (json.loads(data) if data else None)

    def create(self, **fields):
        status, body = self.call("POST", "/api/v1/tournaments", {"name": "Cup", "game": "Rocket League", **fields})
        self.assertEqual(status, 201, body)
        return body

    def test_create_read_update_delete(self):
        made = self.create(description="Friday night", max_participants=8, format="swiss")
        self.assertEqual((made["status"], made["max_participants"], made["format"]), ("draft", 8, "swiss"))
        self.assertIn({"name": "tournament.created", "payload": {"tournament_id": made["id"], "name": "Cup"}, "guild_id": 1,
                       "correlation_id": None}, self.double.events)
        self.assertEqual(self.double.live_log[-1], {"type": "guild", "guild_id": "1", "guild_name": "Loothing",
                                                    "event": "New tournament: Cup"})
        status, read = self.call("GET", f"/api/v1/tournaments/{made['id']}")
        self.assertEqual((status, read["name"], read["participants"]), (200, "Cup", 0))
        status, changed = self.call("PUT", f"/api/v1/tournaments/{made['id']}", {"name": "Big Cup", "status": "registration_open"})
        self.assertEqual((status, changed["name"], changed["status"]), (200, "Big Cup", "registration_open"))
        status, refused = self.call("PUT", f"/api/v1/tournaments/{made['id']}", {"status": "completed"})
        self.assertEqual((status, refused["error"]), (409, "invalid_transition"))
        self.assertEqual(self.call("DELETE", f"/api/v1/tournaments/{made['id']}")[0], 204)
        self.assertEqual(self.call("GET", f"/api/v1/tournaments/{made['id']}")[1]["error"], "tournament_not_found")

    def test_bad_input_is_refused_with_the_field(self):
        for body, field in (({"game": "x"}, "name"), ({"name": "", "game": "x"}, "name"),
                            ({"name": "a", "game": "x", "max_participants": 1}, "max_participants"),
                            ({"name": "a", "game": "x", "max_participants": True}, "max_participants"),
                            ({"name": "a", "game": "x", "format": "brawl"}, "format"),
                            ({"name": "a", "game": "x", "starts_at": "tomorrow"}, "starts_at"),
                            ({"name": "a", "game": "x", "owner": 1}, "owner")):
            status, answer = self.call("POST", "/api/v1/tournaments", body)
            self.assertEqual((status, answer["error"], answer.get("field")), (400, "invalid_field", field), body)
        self.assertEqual(self.call("POST", "/api/v1/tournaments", [1])[1]["error"], "invalid_json")
        self.assertEqual(self.call("GET", "/api/v1/tournaments?status=sleeping")[0], 400)

    def test_list_pages_and_filters(self):
        for number in range(5):
            self.create(name=f"Series {number}", game="Chess" if number % 2 else "Go")
        status, page = self.call("GET", "/api/v1/tournaments?per_page=2&page=2&search=Series")
        self.assertEqual(status, 200)
        self.assertEqual(page["pagination"], {"page": 2, "per_page": 2, "total": 5, "pages": 3})
        self.assertEqual([t["name"] for t in page["items"]], ["Series 2", "Series 1"])
        _, chess = self.call("GET", "/api/v1/tournaments?game=chess&search=Series")
        self.assertEqual(sorted(t["name"] for t in chess["items"]), ["Series 1", "Series 3"])
        _, elsewhere = self.call("GET", "/api/v1/tournaments", guild=OTHER)
        self.assertEqual(elsewhere["items"], [], "another guild sees none of them")

    def test_registration_waitlist_withdrawal_and_check_in(self):
        made = self.create(max_participants=2)
        tid = made["id"]
        self.assertEqual(self.call("POST", f"/api/v1/tournaments/{tid}/registration", identity=person(1))[1]["error"],
                         "registration_closed")
        self.call("PUT", f"/api/v1/tournaments/{tid}", {"status": "registration_open"})
        answers = [self.call("POST", f"/api/v1/tournaments/{tid}/registration", identity=person(n))[1] for n in range(1, 5)]
        self.assertEqual([a["status"] for a in answers], ["registered", "registered", "waitlisted", "waitlisted"])
        self.assertEqual([a["waitlist_position"] for a in answers], [None, None, 1, 2])
        self.assertEqual(self.call("POST", f"/api/v1/tournaments/{tid}/registration", identity=person(1))[1]["error"],
                         "already_registered")
        self.assertEqual(self.call("POST", f"/api/v1/tournaments/{tid}/registration", identity=person(1), guild=OTHER)[0], 404)

        status, left = self.call("DELETE", f"/api/v1/tournaments/{tid}/registration", identity=person(1))
        self.assertEqual((status, left["promoted"]), (200, [{"user_id": 103, "username": "player3"}]))
        self.assertIn({"action": "tournament_promoted", "tournament_id": tid, "user_id": 103, "username": "player3"},
                      [frame["frame"] for frame in self.double.frames])
        _, people = self.call("GET", f"/api/v1/tournaments/{tid}/participants")
        self.assertEqual([p["username"] for p in people["participants"]], ["player2", "player3"])
        self.assertEqual([p["username"] for p in people["waitlist"]], ["player4"])

        self.assertEqual(self.call("POST", f"/api/v1/tournaments/{tid}/check-in", identity=person(2))[1]["error"], "check_in_closed")
        self.call("PUT", f"/api/v1/tournaments/{tid}", {"status": "check_in"})
        self.assertEqual(self.call("POST", f"/api/v1/tournaments/{tid}/check-in", identity=person(2))[1]["status"], "checked_in")
        self.assertEqual(self.call("POST", f"/api/v1/tournaments/{tid}/check-in", identity=person(4))[1]["error"], "waitlisted")
        self.assertEqual(self.call("POST", f"/api/v1/tournaments/{tid}/check-in", identity=person(9))[1]["error"], "not_registered")

        _, figures = self.call("GET", f"/api/v1/tournaments/{tid}/statistics")
        self.assertEqual(figures, {"tournament_id": tid, "status": "check_in", "capacity": 2, "participants": 2,
                                   "waitlisted": 1, "checked_in": 1, "withdrawn": 1, "open_places": 0, "fill_rate": 1.0,
                                   "check_in_rate": 0.5})
        # A larger tournament takes the waitlist in; it cannot shrink below who is in.
        status, grown = self.call("PUT", f"/api/v1/tournaments/{tid}", {"max_participants": 3})
        self.assertEqual((status, grown["participants"], grown["waitlisted"]), (200, 3, 0))
        status, shrink = self.call("PUT", f"/api/v1/tournaments/{tid}", {"max_participants": 2})
        self.assertEqual((status, shrink["error"]), (409, "too_many_participants"))
        key = {"user_id": 0, "username": "key", "role": "user", "api_key": {"id": 1, "guild_id": 1, "permissions": ["query"]}}
        self.assertEqual(self.call("POST", f"/api/v1/tournaments/{tid}/registration", identity=key)[1]["error"], "person_required")

    def test_command_and_the_start_task(self):
        made = self.create(name="Due", starts_at="2020-01-01T00:00:00Z")
        self.call("PUT", f"/api/v1/tournaments/{made['id']}", {"status": "registration_open"})
        _, reply = self.call("POST", "/commands/tournaments", {"arguments": [], "raw_arguments": ""})
        self.assertIn(f"#{made['id']} Due", reply["reply"])
        self.assertEqual(self.call("POST", "/tasks/start-due", {"guild_id": 1})[0], 204)
        self.assertEqual(self.call("GET", f"/api/v1/tournaments/{made['id']}")[1]["status"], "in_progress")


if __name__ == "__main__":
    unittest.main()
