"""The lab's example service: a small task list over HTTP, Python standard library only.

GET /health  -> {"status": "ok", "version": VERSION}   (500 and "broken" when BREAK=1)
GET /tasks   -> {"environment": APP_ENV, "tasks": [...]}
GET /config  -> the runtime configuration it was started with (secrets as set/unset only)

The version and the configuration come from the environment at run time, never from the image:
the same image runs in every environment.
"""

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TASKS = [
    {"id": 1, "title": "Build the image once, tag it with the commit", "done": True},
    {"id": 2, "title": "Deploy the same image to staging", "done": True},
    {"id": 3, "title": "Let a human press the production button", "done": False},
]


def settings(environ):
    """The runtime configuration read from environment variables."""
    return {
        "version": environ.get("VERSION", "dev"),
        "environment": environ.get("APP_ENV", "local"),
        "broken": environ.get("BREAK", "") in ("1", "true", "yes"),
        "api_token_set": bool(environ.get("API_TOKEN")),
    }


def respond(path, config):
    """(status, body) for a GET of `path`."""
    if path == "/health":
        if config["broken"]:
            return 500, {"status": "broken", "version": config["version"]}
        return 200, {"status": "ok", "version": config["version"]}
    if path == "/tasks":
        return 200, {"environment": config["environment"], "tasks": TASKS}
    if path == "/config":
        return 200, config
    return 404, {"error": "not found", "path": path}


def handler_for(config):
    class Handler(BaseHTTPRequestHandler):
        server_version = "tasks-app"

        def do_GET(self):
            status, body = respond(self.path.split("?", 1)[0], config)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    return Handler


def serve(server):
    """Serve until SIGTERM (docker stop), then finish the requests in flight and exit."""
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()


def main():
    config = settings(os.environ)
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("0.0.0.0", port), handler_for(config))
    print("tasks-app %s (%s) listening on :%d" % (config["version"], config["environment"], port), flush=True)
    serve(server)


if __name__ == "__main__":
    main()
