#!/usr/bin/env python3
"""A scripted HTTPS endpoint for the sender tests (odd answers a real collector or proxy gives).

usage: fake_collector.py CERT KEY LOG STEP...
Answers the n-th POST with the n-th STEP (the last one repeats). A STEP is
  200               {"stored":N,"duplicates":0,"last_seq":S} from the body
  400               {"error":"line 1: ...","line":1}
  400@N             400 naming line N; 400@0 names no line
  503:3             503 with Retry-After: 3 (any status:VALUE sends that Retry-After verbatim)
  reject-kind=KIND  400 without a line when a line of the body has that kind, else 200
  any other status  {"error":"scripted <status>"}
Prints "listening 127.0.0.1:PORT" first; appends one JSON line per request to LOG:
{"t": monotonic seconds, "status": answered, "seqs": [...], "kinds": [...], "head": ...}.
"""
import gzip, http.server, json, ssl, sys, time

cert, key, log_path, script = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
count = 0


def answer(step, lines):
    """(status, body dict, Retry-After or "") for one scripted step."""
    if step.startswith("reject-kind="):
        bad = step.split("=", 1)[1]
        if any(l.get("kind") == bad for l in lines):
            return 400, {"error": "scripted rejection without a line"}, ""
        step = "200"
    head, _, retry = step.partition(":")
    status, _, line = head.partition("@")
    status = int(status)
    if status == 200:
        return 200, {"stored": len(lines), "duplicates": 0, "last_seq": lines[-1]["seq"]}, retry
    if status == 400:
        n = int(line) if line else 1
        out = {"error": "line %d: /severity: scripted rejection" % n if n else "scripted 400"}
        if n:
            out["line"] = n
        return 400, out, retry
    return status, {"error": "scripted %d" % status}, retry


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        lines = [json.loads(l) for l in body.decode().splitlines() if l]
        step = script[min(count, len(script) - 1)]
        count += 1
        status, out, retry = answer(step, lines)
        data = json.dumps(out).encode()
        self.send_response(status)
        if retry:
            self.send_header("Retry-After", retry)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with open(log_path, "a") as f:
            f.write(json.dumps({"t": time.monotonic(), "status": status,
                                "seqs": [l["seq"] for l in lines],
                                "kinds": [l["kind"] for l in lines],
                                "head": self.headers.get("X-Seatlock-Chain-Head", "")}) + "\n")

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("listening 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
