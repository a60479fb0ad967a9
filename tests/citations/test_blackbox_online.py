"""Online resolvers against a local fake Crossref/OpenAlex server: off by default, cached,
explicit in the evidence, and errors are one line."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from probity.citations import verify_references
from probity.citations.online import OnlineResolver, resolve_online
from probity.cli import main
from probity.errors import InputError

MISSING = {
    "title": "Attention Is Not Explanation",
    "given": [("Sarthak", "Jain"), ("Byron C.", "Wallace")],
    "year": 2019,
    "venue": "NAACL",
    "doi": "10.18653/v1/N19-1357",
}
TEXT = (
    "Sarthak Jain and Byron C. Wallace. 2019. Attention is not Explanation. In NAACL.\n"
    "Sarthak Jain and Byron C. Wallace. 2019. Attention is not Interpretation. In NAACL.\n"
)


class _Fake(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []
    fail = False

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        type(self).hits.append(self.path)
        if type(self).fail:
            self.send_response(503)
            self.end_headers()
            return
        text = (q.get("query.bibliographic") or q.get("search") or [""])[0].lower()
        match = "explanation" in text  # like the real APIs: results only for what exists
        if url.path.startswith("/crossref/works"):
            items = []
            if match:
                items = [
                    {
                        "title": [MISSING["title"]],
                        "author": [{"given": g, "family": f} for g, f in MISSING["given"]],
                        "issued": {"date-parts": [[MISSING["year"]]]},
                        "container-title": [MISSING["venue"]],
                        "DOI": MISSING["doi"],
                    }
                ]
            body = {"status": "ok", "message": {"items": items}}
        elif url.path.startswith("/openalex/works"):
            body = {"results": []}
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def server():
    _Fake.hits, _Fake.fail = [], False
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.fixture()
def db(papers_db):
    return papers_db


def test_offline_by_default_and_online_verifies_only_what_exists(server, db, tmp_path):
    offline = verify_references(TEXT, db)
    assert [v.verdict for v in offline] == ["not_found", "not_found"]
    assert _Fake.hits == []  # nothing online unless asked
    res = OnlineResolver(
        tmp_path / "cache.sqlite",
        crossref_url=server + "/crossref",
        openalex_url=server + "/openalex",
    )
    got = resolve_online(offline, res)
    assert [v.verdict for v in got] == ["verified", "not_found"]
    assert "verified online against crossref" in got[0].evidence[0]
    assert got[0].details["online"] == {"source": "crossref", "doi": MISSING["doi"].lower()}
    first = res.requests
    assert first == 4  # two references x (Crossref + OpenAlex)
    again = resolve_online(verify_references(TEXT, db), res)
    assert [v.verdict for v in again] == ["verified", "not_found"]
    assert res.requests == first  # answered from the cache
    res.close()


def test_server_errors_are_one_line(server, db, tmp_path, monkeypatch, capsys):
    _Fake.fail = True
    res = OnlineResolver(
        tmp_path / "c.sqlite", crossref_url=server + "/crossref", openalex_url=server + "/openalex"
    )
    with pytest.raises(InputError, match="online lookup failed"):
        resolve_online(verify_references(TEXT, db), res)
    res.close()
    monkeypatch.setenv("PROBITY_CROSSREF_URL", server + "/crossref")
    monkeypatch.setenv("PROBITY_OPENALEX_URL", server + "/openalex")
    assert main(["cite", "verify", TEXT, "--db", str(db.path), "--online"]) == 2
    assert "online lookup failed" in capsys.readouterr().err
    _Fake.fail = False
    assert main(["cite", "verify", TEXT, "--db", str(db.path), "--online", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["verdict"] for r in out["references"]] == ["verified", "not_found"]
