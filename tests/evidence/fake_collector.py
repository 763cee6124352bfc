#!/usr/bin/env python3
"""A scripted HTTPS endpoint for the sender tests (Retry-After, 400 quarantine, 413 split).

usage: fake_collector.py CERT KEY LOG STATUS...
Answers the n-th POST with the n-th STATUS (the last one repeats). "503:3" = 503 with
Retry-After: 3. A 200 answers {"stored":N,"duplicates":0,"last_seq":S} from the body.
Prints "listening 127.0.0.1:PORT" first; appends one JSON line per request to LOG:
{"t": monotonic seconds, "status": answered, "seqs": [...]}.
"""
import gzip, http.server, json, ssl, sys, time

cert, key, log_path, script = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
count = 0


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
        status, _, retry = step.partition(":")
        status = int(status)
        if status == 200:
            out = {"stored": len(lines), "duplicates": 0, "last_seq": lines[-1]["seq"]}
        elif status == 400:
            out = {"error": "line 1: /severity: scripted rejection", "line": 1}
        else:
            out = {"error": "scripted %d" % status}
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
                                "head": self.headers.get("X-Seatlock-Chain-Head", "")}) + "\n")

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("listening 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
