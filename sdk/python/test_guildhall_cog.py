"""Tests of guildhall_cog.py: signatures, routing, answers, errors, callbacks, and the server on a Unix socket."""

import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guildhall_cog  # noqa: E402
from guildhall_cog import Cog, CommandError, Host, HostDouble, HTTPError, Response, signed_headers  # noqa: E402

SECRET = "s3cret"


def make_cog():
    cog = Cog(secret=SECRET)

    @cog.route("GET", "/api/things/{id}")
    def thing(request):
        return {"id": request.params["id"], "q": request.arg("q"), "guild": request.guild_id, "user": request.user_id}

    @cog.route("POST", "/api/things")
    def create(request):
        body = request.json()
        if "name" not in body:
            raise HTTPError(400, "invalid_field", "name is required", field="name")
        return 201, {"name": body["name"]}

    @cog.route("DELETE", "/api/things/{id}")
    def delete(request):
        return None

    @cog.route("GET", "/api/text")
    def text(request):
        return Response("plain", content_type="text/plain")

    @cog.route("GET", "/api/boom")
    def boom(request):
        raise RuntimeError("bug")

    seen = []

    @cog.on_event("ticket.*")
    def on_ticket(event):
        seen.append(event["name"])

    @cog.command("hi")
    def hi(invocation):
        if not invocation.arguments:
            raise CommandError("Say who.")
        return f"hi {' '.join(invocation.arguments)} from {invocation.username}"

    @cog.action("ping")
    def ping(call):
        return {"action": "pong", "text": call.frame.get("text")}

    ticks = []

    @cog.every("tick")
    def tick(guild_id):
        ticks.append(guild_id)

    @cog.on_config()
    def configured(settings):
        ticks.append(("config", settings["greeting"]))

    return cog, seen, ticks


def call(cog, method, target, body=None, identity=None, guild=None, secret=SECRET):
    payload = b"" if body is None else json.dumps(body).encode()
    status, headers, data = cog.handle(method, target, signed_headers(secret, method, target, identity, guild), payload)
    return status, headers, (json.loads(data) if data and headers.get("Content-Type") == "application/json" else data)


class CogTests(unittest.TestCase):
    def setUp(self):
        self.cog, self.seen, self.ticks = make_cog()

    def test_routes_parameters_query_and_caller(self):
        status, _, body = call(self.cog, "GET", "/api/things/12?q=x%20y", identity={"user_id": 3, "username": "ann"},
                               guild={"id": 7, "name": "G"})
        self.assertEqual(status, 200)
        self.assertEqual(body, {"id": "12", "q": "x y", "guild": 7, "user": 3})

    def test_statuses_and_bodies(self):
        self.assertEqual(call(self.cog, "POST", "/api/things", {"name": "a"})[:3:2], (201, {"name": "a"}))
        self.assertEqual(call(self.cog, "DELETE", "/api/things/1")[0], 204)
        status, headers, body = call(self.cog, "GET", "/api/text")
        self.assertEqual((status, headers["Content-Type"], body), (200, "text/plain", b"plain"))

    def test_errors_are_json_and_the_cog_survives_a_bug(self):
        sys.stderr, saved = open(os.devnull, "w"), sys.stderr  # the bug's traceback
        self.addCleanup(lambda: setattr(sys, "stderr", saved))
        status, _, body = call(self.cog, "POST", "/api/things", {})
        self.assertEqual((status, body["error"], body["field"]), (400, "invalid_field", "name"))
        self.assertEqual(call(self.cog, "POST", "/api/things", None)[0], 400)
        status, _, body = self.cog.handle("POST", "/api/things", signed_headers(SECRET, "POST", "/api/things"), b"{not json")
        self.assertEqual(json.loads(body)["error"], "invalid_json")
        self.assertEqual(call(self.cog, "GET", "/api/boom")[2]["error"], "cog_error")
        self.assertEqual(call(self.cog, "GET", "/api/nothing")[0], 404)
        self.assertEqual(call(self.cog, "PUT", "/api/things/1")[0], 405)

    def test_unsigned_forged_and_stale_requests_are_refused(self):
        self.assertEqual(self.cog.handle("GET", "/api/things/1", {}, b"")[0], 401)
        self.assertEqual(call(self.cog, "GET", "/api/things/1", secret="wrong")[0], 401)
        headers = signed_headers(SECRET, "GET", "/api/things/1", identity={"user_id": 1, "username": "a"})
        headers["X-Guildhall-Identity"] = signed_headers(SECRET, "GET", "/", identity={"user_id": 2, "username": "admin"})[
            "X-Guildhall-Identity"]
        self.assertEqual(self.cog.handle("GET", "/api/things/1", headers, b"")[0], 401, "a swapped identity breaks the signature")
        old = signed_headers(SECRET, "GET", "/api/things/1")
        old["X-Guildhall-Timestamp"] = str(int(time.time()) - 3600)
        self.assertEqual(self.cog.handle("GET", "/api/things/1", old, b"")[0], 401)
        self.assertEqual(call(self.cog, "GET", "/health")[0], 200)

    def test_events_commands_actions_and_tasks(self):
        self.assertEqual(call(self.cog, "POST", "/events", {"name": "ticket.created", "payload": {}})[0], 204)
        self.assertEqual(call(self.cog, "POST", "/events", {"name": "meme.posted", "payload": {}})[0], 204)
        self.assertEqual(self.seen, ["ticket.created"])
        _, _, reply = call(self.cog, "POST", "/commands/hi", {"arguments": ["bob"]}, identity={"user_id": 1, "username": "ann"})
        self.assertEqual(reply, {"reply": "hi bob from ann"})
        self.assertEqual(call(self.cog, "POST", "/commands/hi", {"arguments": []})[2], {"error_message": "Say who."})
        self.assertEqual(call(self.cog, "POST", "/actions/ping", {"action": "ping", "text": "t"})[2], {"action": "pong", "text": "t"})
        self.assertEqual(call(self.cog, "POST", "/tasks/tick", {"guild_id": 4})[0], 204)
        self.assertEqual(call(self.cog, "POST", "/config", {"greeting": "yo"})[0], 204)
        self.assertEqual(self.ticks, [4, ("config", "yo")])


class HostTests(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.double = HostDouble(os.path.join(self.folder, "host.sock"), config={"greeting": "hi"}, secret="k")
        self.host = Host(os.path.join(self.folder, "host.sock"), "k")

    def tearDown(self):
        self.double.close()

    def test_callbacks(self):
        self.assertEqual(self.host.config(), {"greeting": "hi"})
        self.host.publish("thing.made", {"id": 1}, guild_id=2)
        self.assertEqual(self.double.events[0]["name"], "thing.made")
        self.assertEqual(self.host.kv_put("a", {"n": 1}, if_version=0)["version"], 1)
        with self.assertRaises(HTTPError) as conflict:
            self.host.kv_put("a", {"n": 2}, if_version=0)
        self.assertEqual(conflict.exception.code, "version_conflict")
        self.assertEqual(self.host.kv_get("a")["value"], {"n": 1})
        self.assertEqual([item["key"] for item in self.host.kv_list("a")], ["a"])
        self.assertTrue(self.host.kv_delete("a"))
        self.assertIsNone(self.host.kv_get("a"))
        self.assertFalse(self.host.kv_delete("a"))
        self.double.people[(1, 7)] = {"user_id": 7, "username": "ann", "role": "user"}
        self.assertEqual(self.host.person(7, 1)["username"], "ann")
        self.assertIsNone(self.host.person(7, 2))

    def test_a_wrong_secret_is_refused(self):
        with self.assertRaises(HTTPError) as refused:
            Host(os.path.join(self.folder, "host.sock"), "nope").config()
        self.assertEqual(refused.exception.status, 401)


class ServerTests(unittest.TestCase):
    def test_serves_http_1_1_with_keep_alive_on_a_unix_socket(self):
        cog, _, _ = make_cog()
        path = os.path.join(tempfile.mkdtemp(), "cog.sock")
        threading.Thread(target=cog.serve, args=(path,), daemon=True).start()
        for _ in range(100):
            if os.path.exists(path):
                break
            time.sleep(0.02)
        connection = http.client.HTTPConnection("cog")
        connection.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.sock.connect(path)
        for number in (1, 2):  # two requests on one connection
            body = json.dumps({"name": f"n{number}"}).encode()
            connection.request("POST", "/api/things", body=body, headers=signed_headers(SECRET, "POST", "/api/things"))
            response = connection.getresponse()
            self.assertEqual((response.status, json.loads(response.read())), (201, {"name": f"n{number}"}))
        connection.close()


if __name__ == "__main__":
    unittest.main()
