#!/usr/bin/env python3
"""A python-socketio client as the HazeBot document's clients use it, driven by the Swift tests.

Usage: socketio_peer.py URL TOKEN TICKET_ID [EXPECT]
Connects with auth {token}, emits join_ticket, then prints one JSON line per event received
({"event": name, "data": ...}) until it has seen EXPECT new_message events (default 1) or 20 s pass.
A refused connection prints {"event": "connect_error", "data": ...} and exits 1.
"""
import json
import sys
import threading

import socketio

url, token, ticket = sys.argv[1], sys.argv[2], sys.argv[3]
expect = int(sys.argv[4]) if len(sys.argv) > 4 else 1
client = socketio.Client(reconnection=False)
seen = {"new_message": 0}
finished = threading.Event()


def report(event, data):
    print(json.dumps({"event": event, "data": data}), flush=True)


@client.on("message_history")
def on_history(data):
    report("message_history", data)


@client.on("new_message")
def on_new_message(data):
    report("new_message", data)
    seen["new_message"] += 1
    if seen["new_message"] >= expect:
        finished.set()


@client.on("ticket_status")
def on_status(data):
    report("ticket_status", data)


@client.on("error")
def on_error(data):
    report("error", data)


try:
    client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
except socketio.exceptions.ConnectionError as error:
    report("connect_error", str(error))
    sys.exit(1)
report("connected", client.sid)
client.emit("join_ticket", {"ticket_id": ticket})
finished.wait(20)
client.disconnect()
