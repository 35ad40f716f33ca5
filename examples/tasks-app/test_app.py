"""Unit tests of the service and its proxy: python3 -m unittest discover examples/tasks-app"""

import json
import os
import tempfile
import threading
import unittest
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import app
import proxy


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class Running:
    """A real server on a free port of 127.0.0.1, stopped at the end of the `with`."""

    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return "127.0.0.1:%d" % self.server.server_address[1]

    def __exit__(self, *_):
        self.server.shutdown()
        self.server.server_close()


class SettingsTest(unittest.TestCase):
    def test_version_and_environment_come_from_the_environment(self):
        config = app.settings({"VERSION": "abc123", "APP_ENV": "staging", "API_TOKEN": "s3cret"})
        self.assertEqual(config, {"version": "abc123", "environment": "staging", "broken": False, "api_token_set": True})

    def test_defaults_without_configuration(self):
        self.assertEqual(app.settings({}), {"version": "dev", "environment": "local", "broken": False, "api_token_set": False})

    def test_break_marks_the_release_broken(self):
        for value in ("1", "true"):
            self.assertTrue(app.settings({"BREAK": value})["broken"])
        for value in ("", "0", "false"):
            self.assertFalse(app.settings({"BREAK": value})["broken"])

    def test_the_secret_itself_is_never_part_of_the_configuration(self):
        config = app.settings({"API_TOKEN": "s3cret"})
        self.assertNotIn("s3cret", json.dumps(config))


class RespondTest(unittest.TestCase):
    def test_health_reports_the_version(self):
        self.assertEqual(app.respond("/health", app.settings({"VERSION": "v7"})), (200, {"status": "ok", "version": "v7"}))

    def test_a_broken_release_answers_500(self):
        status, body = app.respond("/health", app.settings({"VERSION": "v8", "BREAK": "1"}))
        self.assertEqual((status, body["status"], body["version"]), (500, "broken", "v8"))

    def test_tasks_is_a_json_list(self):
        status, body = app.respond("/tasks", app.settings({"APP_ENV": "production"}))
        self.assertEqual(status, 200)
        self.assertEqual(body["environment"], "production")
        self.assertTrue(all({"id", "title", "done"} <= set(t) for t in body["tasks"]))

    def test_unknown_paths_are_404(self):
        self.assertEqual(app.respond("/nope", app.settings({}))[0], 404)


class HttpTest(unittest.TestCase):
    def test_the_server_answers_over_http(self):
        with Running(app.handler_for(app.settings({"VERSION": "v1"}))) as address:
            self.assertEqual(get("http://%s/health" % address), (200, {"status": "ok", "version": "v1"}))
            self.assertEqual(get("http://%s/health?probe=1" % address)[0], 200)
            self.assertEqual(get("http://%s/tasks" % address)[1]["tasks"], app.TASKS)

    def test_the_proxy_forwards_to_the_upstream_and_switches_atomically(self):
        old = Running(app.handler_for(app.settings({"VERSION": "old"})))
        new = Running(app.handler_for(app.settings({"VERSION": "new"})))
        with old as old_address, new as new_address, tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "upstream")
            proxy.set_upstream(old_address, path)
            with open(path) as f:
                self.assertEqual(f.read().strip(), old_address)
            status, _, body = proxy.forward("/health", old_address)
            self.assertEqual((status, json.loads(body)["version"]), (200, "old"))
            proxy.set_upstream(new_address, path)
            self.assertEqual(os.listdir(d), ["upstream"])
            with open(path) as f:
                self.assertEqual(f.read().strip(), new_address)

    def test_the_proxy_passes_errors_on_and_says_when_nothing_answers(self):
        with Running(app.handler_for(app.settings({"BREAK": "1"}))) as address:
            self.assertEqual(proxy.forward("/health", address)[0], 500)
        self.assertEqual(proxy.forward("/health", "")[0], 503)
        status, _, body = proxy.forward("/health", address, timeout=1)
        self.assertEqual(status, 502)
        self.assertIn(b"does not answer", body)


if __name__ == "__main__":
    unittest.main()
