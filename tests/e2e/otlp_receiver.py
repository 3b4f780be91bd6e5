#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An OTLP/HTTP JSON receiver on 127.0.0.1 for tests/e2e/otlp.sh.

Every POST is checked against the JSON mapping of the OTLP protobuf messages (field names and
types, 64-bit integers as decimal strings, timestamps in ns since the epoch near now, histogram
invariants, cumulative points whose start stays and whose values never decrease) and logged as
one JSON line: {"t": arrival (s since the epoch), "path", "status" answered, "errors": [...],
"file": the saved body}. --mode chooses the answer: ok (200), fail500, retry429 (429 with
Retry-After to the first --fail-count requests, then 200) or hang (read the request, never
answer). --retry-after is seconds, or date+N for an HTTP-date N s ahead. The port (bound to 0) is written to --port-file.
"""
import argparse
import email.utils
import json
import math
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]{0,254}$")
UINT_RE = re.compile(r"^(0|[1-9][0-9]*)$")
INT_RE = re.compile(r"^-?(0|[1-9][0-9]*)$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
NOW_SLACK_NS = 120 * 10**9


class Checker:
    """Validates payloads; keeps the last value of every cumulative stream."""

    def __init__(self):
        self.streams = {}
        self.lock = threading.Lock()

    def check_keys(self, obj, allowed, required, where, errs):
        if not isinstance(obj, dict):
            errs.append("%s: not an object" % where)
            return False
        for k in obj:
            if k not in allowed:
                errs.append("%s: unknown field %r" % (where, k))
        for k in required:
            if k not in obj:
                errs.append("%s: missing %r" % (where, k))
        return True

    def check_value(self, v, where, errs):
        kinds = ["stringValue", "intValue", "boolValue", "doubleValue", "arrayValue",
                 "kvlistValue", "bytesValue"]
        if not self.check_keys(v, kinds, [], where, errs):
            return
        if len(v) != 1:
            errs.append("%s: AnyValue with %d fields" % (where, len(v)))
            return
        k, x = next(iter(v.items()))
        if k == "stringValue" and not isinstance(x, str):
            errs.append("%s: stringValue not a string" % where)
        if k == "intValue" and not (isinstance(x, str) and INT_RE.match(x)):
            errs.append("%s: intValue %r not a decimal string" % (where, x))
        if k == "boolValue" and not isinstance(x, bool):
            errs.append("%s: boolValue not a bool" % where)
        if k == "doubleValue" and not isinstance(x, (int, float)):
            errs.append("%s: doubleValue not a number" % where)

    def check_attrs(self, attrs, where, errs):
        if not isinstance(attrs, list):
            errs.append("%s: attributes not a list" % where)
            return {}
        out = {}
        for i, a in enumerate(attrs):
            w = "%s.attributes[%d]" % (where, i)
            if not self.check_keys(a, ["key", "value"], ["key", "value"], w, errs):
                continue
            if not isinstance(a.get("key"), str) or not a["key"]:
                errs.append("%s: key not a non-empty string" % w)
                continue
            if a["key"] in out:
                errs.append("%s: key %r twice" % (w, a["key"]))
            self.check_value(a.get("value"), w + ".value", errs)
            out[a["key"]] = next(iter(a["value"].values())) if isinstance(a.get("value"), dict) \
                and a["value"] else None
        return out

    def check_time(self, s, where, errs, now_ns):
        if not isinstance(s, str) or not UINT_RE.match(s):
            errs.append("%s: %r not a decimal string of ns" % (where, s))
            return None
        t = int(s)
        if abs(t - now_ns) > NOW_SLACK_NS:
            errs.append("%s: %d ns is %.1f s away from now" % (where, t, (t - now_ns) / 1e9))
        return t

    def check_metrics(self, d, now_ns):
        errs = []
        if not self.check_keys(d, ["resourceMetrics"], ["resourceMetrics"], "request", errs):
            return errs
        rms = d["resourceMetrics"]
        if not isinstance(rms, list) or not rms:
            return errs + ["resourceMetrics: not a non-empty list"]
        for ri, rm in enumerate(rms):
            w = "resourceMetrics[%d]" % ri
            if not self.check_keys(rm, ["resource", "scopeMetrics", "schemaUrl"],
                                   ["resource", "scopeMetrics"], w, errs):
                continue
            res = rm["resource"]
            rattrs = {}
            if self.check_keys(res, ["attributes", "droppedAttributesCount"], ["attributes"],
                               w + ".resource", errs):
                rattrs = self.check_attrs(res["attributes"], w + ".resource", errs)
            for k in ["service.name", "host.name", "process.pid"]:
                if k not in rattrs:
                    errs.append("%s.resource: no %s" % (w, k))
            rkey = json.dumps(sorted(rattrs.items()))
            for si, sm in enumerate(rm["scopeMetrics"]):
                ws = "%s.scopeMetrics[%d]" % (w, si)
                if not self.check_keys(sm, ["scope", "metrics", "schemaUrl"], ["scope", "metrics"],
                                       ws, errs):
                    continue
                self.check_keys(sm["scope"], ["name", "version", "attributes"], ["name"],
                                ws + ".scope", errs)
                names = set()
                for mi, m in enumerate(sm["metrics"]):
                    wm = "%s.metrics[%d]" % (ws, mi)
                    self.check_metric(m, wm, errs, now_ns, rkey, names)
        return errs

    def check_metric(self, m, w, errs, now_ns, rkey, names):
        kinds = ["sum", "gauge", "histogram"]
        if not self.check_keys(m, ["name", "description", "unit", "metadata"] + kinds, ["name"],
                               w, errs):
            return
        name = m.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            errs.append("%s: bad name %r" % (w, name))
            return
        w = "%s(%s)" % (w, name)
        if name in names:
            errs.append("%s: the metric twice in one scope" % w)
        names.add(name)
        for k in ["description", "unit"]:
            if k in m and not isinstance(m[k], str):
                errs.append("%s: %s not a string" % (w, k))
        present = [k for k in kinds if k in m]
        if len(present) != 1:
            errs.append("%s: %d data kinds" % (w, len(present)))
            return
        kind = present[0]
        data = m[kind]
        allowed = {"sum": ["dataPoints", "aggregationTemporality", "isMonotonic"],
                   "gauge": ["dataPoints"],
                   "histogram": ["dataPoints", "aggregationTemporality"]}[kind]
        if not self.check_keys(data, allowed, allowed, w + "." + kind, errs):
            return
        if kind != "gauge" and data["aggregationTemporality"] != 2:
            errs.append("%s: aggregationTemporality %r, not 2 (cumulative)" %
                        (w, data["aggregationTemporality"]))
        if kind == "sum" and not isinstance(data["isMonotonic"], bool):
            errs.append("%s: isMonotonic not a bool" % w)
        pts = data["dataPoints"]
        if not isinstance(pts, list) or not pts:
            errs.append("%s: dataPoints not a non-empty list" % w)
            return
        seen = set()
        for pi, p in enumerate(pts):
            wp = "%s.dataPoints[%d]" % (w, pi)
            if kind == "histogram":
                v = self.check_hist_point(p, wp, errs, now_ns)
            else:
                v = self.check_number_point(p, wp, errs, now_ns, kind != "gauge")
            if v is None:
                continue
            attrs, start, value = v
            akey = json.dumps(sorted(attrs.items()))
            if akey in seen:
                errs.append("%s: two points with the same attributes" % wp)
            seen.add(akey)
            if kind == "gauge" or (kind == "sum" and not data["isMonotonic"]):
                continue
            key = (rkey, name, akey)
            with self.lock:
                old = self.streams.get(key)
                if old is not None:
                    if old[0] != start:
                        errs.append("%s: startTimeUnixNano changed (%d to %d)" %
                                    (wp, old[0], start))
                    if value < old[1]:
                        errs.append("%s: cumulative value went down (%r to %r)" %
                                    (wp, old[1], value))
                self.streams[key] = (start, value)

    def point_common(self, p, allowed, required, w, errs, now_ns, cumulative):
        if not self.check_keys(p, allowed, required, w, errs):
            return None
        attrs = self.check_attrs(p.get("attributes", []), w, errs)
        t = self.check_time(p.get("timeUnixNano"), w + ".timeUnixNano", errs, now_ns)
        start = None
        if cumulative:
            if "startTimeUnixNano" not in p:
                errs.append("%s: a cumulative point without startTimeUnixNano" % w)
                return None
            start = self.check_time(p["startTimeUnixNano"], w + ".startTimeUnixNano", errs,
                                    now_ns - 0)
            if start is not None and t is not None and start > t:
                errs.append("%s: starts after its time" % w)
        return attrs, start

    def check_number_point(self, p, w, errs, now_ns, cumulative):
        allowed = ["attributes", "startTimeUnixNano", "timeUnixNano", "asInt", "asDouble",
                   "exemplars", "flags"]
        c = self.point_common(p, allowed, ["timeUnixNano"], w, errs, now_ns, cumulative)
        if c is None:
            return None
        have = [k for k in ["asInt", "asDouble"] if k in p]
        if len(have) != 1:
            errs.append("%s: %d values" % (w, len(have)))
            return None
        if have[0] == "asInt":
            if not isinstance(p["asInt"], str) or not INT_RE.match(p["asInt"]):
                errs.append("%s: asInt %r not a decimal string" % (w, p["asInt"]))
                return None
            v = int(p["asInt"])
        else:
            if not isinstance(p["asDouble"], (int, float)) or isinstance(p["asDouble"], bool):
                errs.append("%s: asDouble not a number" % w)
                return None
            v = p["asDouble"]
        return c[0], c[1], v

    def check_hist_point(self, p, w, errs, now_ns):
        allowed = ["attributes", "startTimeUnixNano", "timeUnixNano", "count", "sum",
                   "bucketCounts", "explicitBounds", "exemplars", "flags", "min", "max"]
        c = self.point_common(p, allowed, ["timeUnixNano", "count", "bucketCounts",
                                           "explicitBounds"], w, errs, now_ns, True)
        if c is None:
            return None
        if not isinstance(p["count"], str) or not UINT_RE.match(p["count"]):
            errs.append("%s: count %r not a decimal string" % (w, p["count"]))
            return None
        count = int(p["count"])
        bc, eb = p["bucketCounts"], p["explicitBounds"]
        if not all(isinstance(x, str) and UINT_RE.match(x) for x in bc):
            errs.append("%s: bucketCounts not decimal strings" % w)
            return None
        if not all(isinstance(x, (int, float)) for x in eb):
            errs.append("%s: explicitBounds not numbers" % w)
            return None
        if any(eb[i] >= eb[i + 1] for i in range(len(eb) - 1)):
            errs.append("%s: explicitBounds not strictly increasing" % w)
        if len(bc) != len(eb) + 1:
            errs.append("%s: %d bucketCounts for %d bounds" % (w, len(bc), len(eb)))
        if sum(int(x) for x in bc) != count:
            errs.append("%s: bucketCounts sum to %d, count is %d" %
                        (w, sum(int(x) for x in bc), count))
        s = p.get("sum")
        if s is not None and (not isinstance(s, (int, float)) or s < 0):
            errs.append("%s: sum %r" % (w, s))
        if count > 0:
            mn, mx = p.get("min"), p.get("max")
            if not isinstance(mn, (int, float)) or not isinstance(mx, (int, float)):
                errs.append("%s: min/max missing" % w)
            elif not (mn <= mx and mn * count <= s * (1 + 1e-9) + 1e-9 and
                      s <= mx * count * (1 + 1e-9) + 1e-9):
                errs.append("%s: min %r, max %r, sum %r, count %d inconsistent" %
                            (w, mn, mx, s, count))
            # The observed extremes lie in buckets that have samples.
            if isinstance(mn, (int, float)) and eb:
                first = next(i for i, x in enumerate(bc) if int(x) > 0)
                if first < len(eb) and mn > eb[first] * (1 + 1 / 64.0) + 1e-12:
                    errs.append("%s: min %r above its first bucket's bound %r" %
                                (w, mn, eb[first]))
        return c[0], c[1], count

    def check_traces(self, d, now_ns):
        errs = []
        if not self.check_keys(d, ["resourceSpans"], ["resourceSpans"], "request", errs):
            return errs
        for ri, rs in enumerate(d["resourceSpans"]):
            w = "resourceSpans[%d]" % ri
            if not self.check_keys(rs, ["resource", "scopeSpans", "schemaUrl"],
                                   ["resource", "scopeSpans"], w, errs):
                continue
            self.check_attrs(rs["resource"].get("attributes"), w + ".resource", errs)
            for si, ss in enumerate(rs["scopeSpans"]):
                ws = "%s.scopeSpans[%d]" % (w, si)
                if not self.check_keys(ss, ["scope", "spans", "schemaUrl"], ["scope", "spans"],
                                       ws, errs):
                    continue
                for pi, sp in enumerate(ss["spans"]):
                    wp = "%s.spans[%d]" % (ws, pi)
                    allowed = ["traceId", "spanId", "parentSpanId", "name", "kind",
                               "startTimeUnixNano", "endTimeUnixNano", "attributes", "status",
                               "events", "links", "traceState", "flags"]
                    if not self.check_keys(sp, allowed, ["traceId", "spanId", "name", "kind",
                                                         "startTimeUnixNano", "endTimeUnixNano"],
                                           wp, errs):
                        continue
                    if not HEX32.match(str(sp["traceId"])) or not HEX16.match(str(sp["spanId"])):
                        errs.append("%s: ids not 16/8 bytes of lowercase hex" % wp)
                    if not isinstance(sp["kind"], int) or not 0 <= sp["kind"] <= 5:
                        errs.append("%s: kind %r" % (wp, sp["kind"]))
                    a = self.check_time(sp["startTimeUnixNano"], wp + ".start", errs, now_ns)
                    b = self.check_time(sp["endTimeUnixNano"], wp + ".end", errs, now_ns)
                    if a is not None and b is not None and a > b:
                        errs.append("%s: ends before it starts" % wp)
                    self.check_attrs(sp.get("attributes", []), wp, errs)
                    st = sp.get("status", {})
                    self.check_keys(st, ["code", "message"], [], wp + ".status", errs)
        return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mode", default="ok", choices=["ok", "fail500", "retry429", "hang"])
    ap.add_argument("--retry-after", default="2")
    ap.add_argument("--fail-count", type=int, default=1)
    args = ap.parse_args()

    checker = Checker()
    lock = threading.Lock()
    state = {"n": 0}
    stop = threading.Event()
    log = open(args.log, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, extra=None):
            body = b"{}" if status == 200 else b'{"message":"test"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            t = time.time()
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            with lock:
                state["n"] += 1
                seq = state["n"]
            path = os.path.join(args.dir, "%04d.json" % seq)
            with open(path, "wb") as f:
                f.write(raw)
            errs = []
            if self.headers.get("Content-Type") != "application/json":
                errs.append("Content-Type %r" % self.headers.get("Content-Type"))
            try:
                d = json.loads(raw)
            except ValueError as e:
                d = None
                errs.append("not JSON: %s" % e)
            now_ns = time.time_ns()
            if d is not None and self.path.endswith("/v1/metrics"):
                errs += checker.check_metrics(d, now_ns)
            elif d is not None and self.path.endswith("/v1/traces"):
                errs += checker.check_traces(d, now_ns)
            elif d is not None:
                errs.append("unexpected path %s" % self.path)
            status, extra = 200, None
            if args.mode == "fail500":
                status = 500
            elif args.mode == "retry429" and seq <= args.fail_count:
                ra = args.retry_after
                if ra.startswith("date+"):
                    # An HTTP-date that many seconds ahead (rounded up to a whole second).
                    ra = email.utils.formatdate(math.ceil(time.time()) + int(ra[5:]),
                                                usegmt=True)
                status, extra = 429, {"Retry-After": ra}
            rec = {"t": t, "seq": seq, "path": self.path, "status": status, "errors": errs[:20],
                   "file": path, "headers": {k.lower(): v for k, v in self.headers.items()}}
            if args.mode == "hang":
                rec["status"] = None
                log.write(json.dumps(rec) + "\n")
                stop.wait()
                return
            log.write(json.dumps(rec) + "\n")
            self.answer(status, extra)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    finally:
        stop.set()


if __name__ == "__main__":
    main()
