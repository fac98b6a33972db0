#!/usr/bin/env python3
"""A gateway client that stops reading, driven by the Swift tests: the server must cut it off, not buffer for it.

Usage: slow_reader.py WS_URL
Connects with a tiny receive buffer, subscribes to user messages, prints {"ready": true}, then reads nothing for
PAUSE seconds while the test floods the connection; then drains and prints {"close_code": N, "frames": M}.
"""
import json
import socket
import sys
import time

import websocket

PAUSE = 4
connection = websocket.create_connection(sys.argv[1], sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)], timeout=20)
connection.recv()  # connected
connection.send(json.dumps({"action": "subscribe", "message_types": ["user"]}))
while json.loads(connection.recv()).get("action") != "subscribed":
    pass
print(json.dumps({"ready": True}), flush=True)
time.sleep(PAUSE)
frames = 0
close_code = None
try:
    while True:
        opcode, data = connection.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            close_code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            break
        frames += 1
except Exception:
    pass
print(json.dumps({"close_code": close_code, "frames": frames}), flush=True)
