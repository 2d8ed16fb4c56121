"""Issue 3: reading accounts through our Zoho client vs the official SDK (`zohocrmsdk8-0`) vs plain requests + json.

Two servers, same run:
- a canned-answer server (a child process answering pre-built pages at once), so that the client's own cost is
  measured without the sandbox's speed hiding it: our client, plain requests + json and the SDK;
- the live CRM sandbox (`manage.py crm_sandbox serve`, seeded with N accounts): our client and the SDK.

Each reader runs in its own process (`python -m bench.bench_client read …`), so that its peak RSS is its own.
Figures: records/s, peak RSS and RSS growth while reading, and list calls against the minimum ceil(N/200).
Target (the issue): our client within 2× of plain requests + json on the canned server, and several times the SDK.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.common import Context, Row

ROOT = Path(__file__).resolve().parent.parent
BENCH = "client"
FIELDS = [
    "Account_Name",
    "Phone",
    "Website",
    "Industry",
    "Annual_Revenue",
    "Billing_Street",
    "Billing_City",
    "Billing_Code",
    "Billing_Country",
    "Owner",
    "Modified_Time",
]  # + id = twelve fields a record
PER_PAGE = 200
CLIENT_ID = "1000.BENCHCLIENT"
CLIENT_SECRET = "bench-secret"  # noqa: S105 (the canned server accepts anything)
REFRESH_TOKEN = "1000.bench-refresh"  # noqa: S105


# ---------------------------------------------------------------------------------------------- canned server


def _record(n: int) -> dict[str, Any]:
    return {
        "id": str(4150868000000000000 + n),
        "Account_Name": f"Zylker {n} Holdings",
        "Phone": f"+1 555 {n % 10000:04d}",
        "Website": f"https://zylker{n}.example.com",
        "Industry": "Manufacturing",
        "Annual_Revenue": 125000.5 + n,
        "Billing_Street": f"{n} Market Street",
        "Billing_City": "San Francisco",
        "Billing_Code": "94103",
        "Billing_Country": "United States",
        "Owner": {"name": "Patricia Boyle", "id": "4150868000000225013", "email": "p.boyle@zylker.com"},
        "Modified_Time": "2024-02-19T18:30:23-08:00",
    }


def _canned_pages(n_records: int) -> list[bytes]:
    pages = []
    n_pages = max(1, math.ceil(n_records / PER_PAGE))
    for p in range(1, n_pages + 1):
        first = (p - 1) * PER_PAGE
        ids = range(first, min(first + PER_PAGE, n_records))
        more = p < n_pages
        body = {
            "data": [_record(i) for i in ids],
            "info": {
                "call": False,
                "per_page": PER_PAGE,
                "next_page_token": f"tok{p}" if more else None,
                "count": len(ids),
                "sort_by": "id",
                "page": p,
                "previous_page_token": None,
                "page_token_expiry": "2030-01-01T00:00:00+00:00",
                "sort_order": "desc",
                "email": False,
                "more_records": more,
            },
        }
        pages.append(json.dumps(body, separators=(",", ":")).encode())
    return pages


def _field_json(api_name: str, data_type: str, json_type: str = "string") -> dict[str, Any]:
    field: dict[str, Any] = {
        "api_name": api_name,
        "field_label": api_name.replace("_", " "),
        "display_label": api_name.replace("_", " "),
        "id": str(abs(hash(api_name)) % 10**18),
        "data_type": data_type,
        "json_type": json_type,
        "custom_field": False,
        "read_only": False,
        "length": 255,
        "visible": True,
        "pick_list_values": [],
        "lookup": {},
    }
    if data_type == "ownerlookup":
        field["lookup"] = {}
    return field


FIELDS_META = {
    "fields": [
        _field_json("id", "bigint", "string"),
        _field_json("Account_Name", "text"),
        _field_json("Phone", "phone"),
        _field_json("Website", "website"),
        _field_json("Industry", "text"),
        _field_json("Annual_Revenue", "currency", "double"),
        _field_json("Billing_Street", "text"),
        _field_json("Billing_City", "text"),
        _field_json("Billing_Code", "text"),
        _field_json("Billing_Country", "text"),
        _field_json("Owner", "ownerlookup", "jsonobject"),
        _field_json("Modified_Time", "datetime"),
    ]
}


def serve_canned(n_records: int) -> None:
    """Answer pre-built pages instantly (page 1..10, then page_token tokN → page N+1), the token endpoint and the
    few metadata calls the SDK makes. Prints "PORT <n>" when ready."""
    pages = _canned_pages(n_records)
    statics = {
        "/crm/v8/users": json.dumps({"users": [{"id": "1", "email": "bench@zylker.com", "full_name": "Bench"}]}),
        "/crm/v8/org": json.dumps(
            {"org": [{"id": "2", "zgid": "808", "license_details": {"paid_type": "enterprise"}}]}
        ),
        "/crm/v8/settings/fields": json.dumps(FIELDS_META),
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            token = {"access_token": "1000.canned", "api_domain": base, "token_type": "Bearer", "expires_in": 3600}
            self._send(200, json.dumps(token).encode())

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/crm/v8/Accounts":
                if "page_token" in query:
                    index = int(query["page_token"].removeprefix("tok"))
                else:
                    index = int(query.get("page", "1")) - 1
                if index >= len(pages):
                    self._send(400, b'{"code":"INVALID_DATA","details":{},"message":"bad page","status":"error"}')
                    return
                self._send(200, pages[index])
                return
            body = statics.get(parts.path)
            if body is None:
                self._send(404, b'{"code":"INVALID_URL_PATTERN","details":{},"message":"no","status":"error"}')
                return
            self._send(200, body.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


# ---------------------------------------------------------------------------------------------- readers


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def _count_calls() -> dict[str, int]:
    """Count the HTTP requests this process sends, by kind, whatever library sends them."""
    import requests

    counts = {"list": 0, "other_api": 0, "token": 0}
    original = requests.sessions.Session.send

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        path = urlsplit(request.url).path
        if path.startswith("/oauth/"):
            counts["token"] += 1
        elif path.rstrip("/").endswith("/crm/v8/Accounts"):
            counts["list"] += 1
        else:
            counts["other_api"] += 1
        return original(self, request, **kwargs)

    requests.sessions.Session.send = send  # type: ignore[method-assign]
    return counts


def read_ours(creds: dict[str, str]) -> tuple[int, int]:
    from crm_integration.client import Credentials
    from crm_integration.zoho import ZohoCrmClient

    client = ZohoCrmClient(
        Credentials(
            accounts_url=creds["accounts_url"],
            api_domain=creds["api_domain"],
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            refresh_token=creds["refresh_token"],
        )
    )
    n = 0
    checksum = 0
    for record in client.iter_records("Accounts", fields=FIELDS):
        n += 1
        checksum ^= hash(record["id"])
    return n, checksum


def read_plain(creds: dict[str, str]) -> tuple[int, int]:
    import requests

    session = requests.Session()
    token = session.post(
        creds["accounts_url"].rstrip("/") + "/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "refresh_token": creds["refresh_token"],
        },
        timeout=30,
    ).json()
    headers = {"Authorization": f"Zoho-oauthtoken {token['access_token']}"}
    url = token.get("api_domain", creds["api_domain"]).rstrip("/") + "/crm/v8/Accounts"
    n = 0
    checksum = 0
    page = 1
    page_token = None
    while True:
        params: dict[str, Any] = {"fields": ",".join(FIELDS), "per_page": PER_PAGE}
        if page_token:
            params["page_token"] = page_token
        else:
            params["page"] = page
        response = session.get(url, params=params, headers=headers, timeout=30)
        if response.status_code == 204:
            break
        body = json.loads(response.content)
        for record in body["data"]:
            n += 1
            checksum ^= hash(record["id"])
        info = body["info"]
        if not info.get("more_records"):
            break
        if page_token or page * PER_PAGE >= 2000:
            page_token = info["next_page_token"]
        page += 1
    return n, checksum


def read_sdk(creds: dict[str, str]) -> tuple[int, int]:
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.api.authenticator.store.file_store import FileStore
    from zohocrmsdk.src.com.zoho.api.logger import Logger
    from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
    from zohocrmsdk.src.com.zoho.crm.api.parameter_map import ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.record import GetRecordsParam, RecordOperations, ResponseWrapper
    from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

    workdir = tempfile.mkdtemp(prefix="lb-sdk-")
    environment = DataCenter.Environment(
        creds["api_domain"].rstrip("/"),
        creds["accounts_url"].rstrip("/") + "/oauth/v2/token",
        creds["api_domain"].rstrip("/"),
    )
    Initializer.initialize(
        environment=environment,
        token=OAuthToken(
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            refresh_token=creds["refresh_token"],
            find_user=False,
        ),
        store=FileStore(os.path.join(workdir, "tokens.txt")),
        # update_api_domain=False: never let a token answer move the SDK to a real Zoho host (reference §14.2).
        sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False, update_api_domain=False),
        resource_path=workdir,
        logger=Logger.get_instance(level=Logger.Levels.ERROR, file_path=os.path.join(workdir, "sdk.log")),
    )
    operations = RecordOperations("Accounts")
    n = 0
    checksum = 0
    page = 1
    page_token = None
    while True:
        params = ParameterMap()
        params.add(GetRecordsParam.fields, ",".join(FIELDS))
        params.add(GetRecordsParam.per_page, PER_PAGE)
        if page_token:
            params.add(GetRecordsParam.page_token, page_token)
        else:
            params.add(GetRecordsParam.page, page)
        response = operations.get_records(params)
        if response is None or response.get_status_code() in (204, 304):
            break
        wrapper = response.get_object()
        if not isinstance(wrapper, ResponseWrapper):
            raise RuntimeError(f"SDK answer {response.get_status_code()}: {wrapper!r}")
        for record in wrapper.get_data():
            n += 1
            checksum ^= hash(str(record.get_id()))
        info = wrapper.get_info()
        if not info.get_more_records():
            break
        if page_token or page * PER_PAGE >= 2000:
            page_token = info.get_next_page_token()
        page += 1
    return n, checksum


READERS = {"ours": read_ours, "plain": read_plain, "sdk": read_sdk}


def reader_main(name: str, creds_json: str) -> None:
    creds = json.loads(creds_json)
    counts = _count_calls()
    # Import the reader's libraries before the baseline, so that RSS growth is the reading itself.
    if name == "sdk":
        import zohocrmsdk.src.com.zoho.crm.api.record  # noqa: F401
    else:
        import crm_integration.zoho  # noqa: F401
    base = _rss_mb()
    started = time.perf_counter()
    n, checksum = READERS[name](creds)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"records": n, "checksum": checksum, "seconds": seconds, "peak_mb": peak, "base_mb": base, **counts}
    print("RESULT " + json.dumps(out), flush=True)


# ---------------------------------------------------------------------------------------------- orchestration


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"  # the id checksum must agree between reader processes
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run_reader(name: str, creds: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_client", "read", name, json.dumps(creds)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise RuntimeError(f"reader {name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


class _Child:
    """A server process of ours: started, waited for, and stopped by its own pid."""

    def __init__(self, args: list[str], ready: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env or _env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + 120
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{args[2:4]} exited early:\n{''.join(self.lines)[-3000:]}")
            self.lines.append(line)
            if ready in line:
                self.ready_line = line.strip()
                break
        else:
            self.stop()
            raise RuntimeError(f"{args} did not become ready")
        # Keep draining its output so that it never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _canned_creds(port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    return {
        "accounts_url": base,
        "api_domain": base,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }


def _rows_for(label: str, n: int, results: dict[str, dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    minimum = max(1, math.ceil(n / PER_PAGE))
    for name, r in results.items():
        rate = r["records"] / r["seconds"] if r["seconds"] else 0.0
        rows.append(Row(BENCH, f"{label}: {name} records/s", rate, "rec/s"))
        rows.append(Row(BENCH, f"{label}: {name} peak RSS", r["peak_mb"], "MB"))
        rows.append(Row(BENCH, f"{label}: {name} RSS growth while reading", r["peak_mb"] - r["base_mb"], "MB"))
        rows.append(
            Row(
                BENCH,
                f"{label}: {name} list calls",
                r["list"],
                "calls",
                floor=minimum,
                floor_label="ceil(N/200) calls",
                ok=r["list"] == minimum,
            )
        )
        rows.append(
            Row(
                BENCH,
                f"{label}: {name} records read",
                r["records"],
                "records",
                floor=n,
                floor_label="N",
                ok=r["records"] == n,
            )
        )
    return rows


def _compare(label: str, results: dict[str, dict[str, Any]]) -> list[Row]:
    def rate(name: str) -> float:
        r = results[name]
        return r["records"] / r["seconds"]

    rows = []
    if "plain" in results and "ours" in results:
        ratio = rate("plain") / rate("ours")
        rows.append(
            Row(
                BENCH, f"{label}: plain requests+json / ours (time ratio)", ratio, "x", 2.0, "target ≤ 2×", ratio <= 2.0
            )
        )
    if "sdk" in results and "ours" in results:
        speedup = rate("ours") / rate("sdk")
        rows.append(
            Row(BENCH, f"{label}: ours / SDK (speed-up)", speedup, "x", 2.0, "several times the SDK", speedup >= 2)
        )
        growth_ours = results["ours"]["peak_mb"] - results["ours"]["base_mb"]
        growth_sdk = results["sdk"]["peak_mb"] - results["sdk"]["base_mb"]
        rows.append(
            Row(
                BENCH,
                f"{label}: ours RSS growth / SDK RSS growth",
                growth_ours / growth_sdk if growth_sdk > 0 else 0.0,
                "x",
                1.0,
                "a fraction (< 1)",
                growth_ours < growth_sdk,
            )
        )
    checksums = {r["checksum"] for r in results.values()}
    rows.append(
        Row(
            BENCH,
            f"{label}: readers agree on the record set",
            float(len(checksums) == 1),
            "bool",
            1.0,
            "",
            len(checksums) == 1,
        )
    )
    return rows


def _bench_canned(n: int) -> list[Row]:
    server = _Child([sys.executable, "-m", "bench.bench_client", "canned", str(n)], ready="PORT ")
    try:
        creds = _canned_creds(int(server.ready_line.split()[1]))
        # Two alternating rounds of the fast readers, the faster of each kept: the machine is shared, and a
        # neighbour's burst should not decide the ratio. The SDK once (it is an order of magnitude slower).
        rounds = [{name: _run_reader(name, creds) for name in ("plain", "ours")} for _ in range(2)]
        results = {name: min((r[name] for r in rounds), key=lambda x: x["seconds"]) for name in ("plain", "ours")}
        results["sdk"] = _run_reader("sdk", creds)
    finally:
        server.stop()
    return _rows_for("canned", n, results) + _compare("canned", results)


def _bench_sandbox(n: int) -> list[Row]:
    # The sandbox's own test harness seeds a database file and serves it on a free port.
    from tests.fixtures.sandbox import SMALL_SEED, start_sandbox, stop_sandbox

    workdir = Path(tempfile.mkdtemp(prefix="lb-bench-client-"))
    started = time.monotonic()
    server = start_sandbox(workdir / "sandbox.sqlite3", seed={**SMALL_SEED, "accounts": n})
    print(f"   sandbox seeded with {n:,} accounts and serving in {time.monotonic() - started:.1f}s", flush=True)
    try:
        creds = server.credentials_json()
        results = {name: _run_reader(name, creds) for name in ("ours", "sdk")}
        served = int(server.counters()["calls"].get("GET /crm/v8/Accounts", 0))
    finally:
        stop_sandbox(server)
    rows = _rows_for("sandbox", n, results) + _compare("sandbox", results)
    rows.append(
        Row(
            BENCH,
            "sandbox: list calls the server counted (ours + SDK)",
            served,
            "calls",
            2 * max(1, math.ceil(n / PER_PAGE)),
            "2 × ceil(N/200)",
            served == 2 * max(1, math.ceil(n / PER_PAGE)),
        )
    )
    return rows


def run(ctx: Context) -> list[Row]:
    n = ctx.n(100_000, minimum=1000)
    return _bench_canned(n) + _bench_sandbox(n)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    canned = sub.add_parser("canned")
    canned.add_argument("n", type=int)
    read = sub.add_parser("read")
    read.add_argument("reader", choices=sorted(READERS))
    read.add_argument("creds")
    args = parser.parse_args()
    if args.cmd == "canned":
        serve_canned(args.n)
    else:
        reader_main(args.reader, args.creds)


if __name__ == "__main__":
    main()
