"""An AllTalk-shaped example root for alltalk-launch.

Like AllTalk's own script.py it starts the API on localhost (port 7851 by default) and answers
GET /api/ready with "Ready", so that `alltalk-launch server` visibly starts a server. It uses only
the standard library, so any Python 3.11 environment runs it.
"""
import argparse
import http.server
import json
import os
import sys

import alltalk_launch


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/api/ready":
            body, ctype = b"Ready", "text/plain"
        else:
            body = json.dumps({"example": "alltalk-launch", "plan": alltalk_launch.plan(),
                               "python": sys.version}, indent=2).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7851)
    parser.add_argument("--tts_model", choices=["piper", "vits", "xtts", "none"], default="none")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]
    print(f"[AllTalk example] Python {sys.version.split()[0]} from {sys.prefix}", flush=True)
    print(f"[AllTalk example] working directory {os.getcwd()}", flush=True)
    print(f"[AllTalk example] ready: http://127.0.0.1:{port}/api/ready (Ctrl+C stops it)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("[AllTalk example] stopped", flush=True)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
