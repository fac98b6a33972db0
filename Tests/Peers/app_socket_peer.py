#!/usr/bin/env python3
"""The HazeBot admin app's ticket chat socket, played by python-socketio for the Swift tests.

Usage: app_socket_peer.py URL TOKEN TICKET_ID USER_ID [EXPECT]
Connects as the app does (websocket transport, header `foo: bar`) plus the token Guildhall requires, emits
join_ticket {ticket_id, user_id}, and prints one JSON line per event ({"event": name, "data": ...}) until it has seen
EXPECT ticket_update events (default 1) or 20 s pass; then emits leave_ticket and disconnects.
"""
import json
import sys
import threading

import socketio

url, token, ticket, user = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
expect = int(sys.argv[5]) if len(sys.argv) > 5 else 1
client = socketio.Client(reconnection=False)
seen = {"ticket_update": 0}
finished = threading.Event()
printing = threading.Lock()


def report(event, data):
    with printing:
        print(json.dumps({"event": event, "data": data}), flush=True)


for name in ("connected", "message_history", "error"):
    client.on(name, (lambda name: lambda data=None: report(name, data))(name))


@client.on("ticket_update")
def on_update(data):
    report("ticket_update", data)
    seen["ticket_update"] += 1
    if seen["ticket_update"] >= expect:
        finished.set()


try:
    client.connect(url, headers={"foo": "bar"}, auth={"token": token}, transports=["websocket"], wait_timeout=10)
except socketio.exceptions.ConnectionError as error:
    report("connect_error", str(error))
    sys.exit(1)
report("joined", client.sid)
client.emit("join_ticket", {"ticket_id": ticket, "user_id": user})
finished.wait(20)
client.emit("leave_ticket", {"ticket_id": ticket, "user_id": user})
client.disconnect()
