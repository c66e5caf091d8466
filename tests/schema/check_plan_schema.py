#!/usr/bin/python3
"""Checks scenarios/planproof.schema.json, the JSON Schema editors use for plans, against the loader.

    check_plan_schema.py --source-dir DIR [--planproof EXE] [--schema FILE] CHECK...

CHECK is one or more of:
  draft7     the schema is a valid draft-07 schema
  plans      every plan the repository ships validates: scenarios/*.plan.yaml, the plans under
             tests/plan/data and tests/cli/data that the loader accepts, the output of `planproof new`,
             and the plans `planproof import-openapi` drafts from tests/cli/data (when the loader accepts them)
  rejected   mutations of scenarios/payments.plan.yaml that the schema AND the loader both reject
  accepted   variants of scenarios/payments.plan.yaml in the plan format's odd corners that the loader
             AND the schema both accept (the schema must never flag a plan the loader accepts)

The loader's verdict is `planproof render FILE`: exit 0 accepted, exit 2 rejected. Plans are read the way
yaml-cpp and yaml-language-server read them (YAML 1.2 core schema), not with PyYAML's YAML 1.1 defaults.
Needs the Debian packages python3-yaml and python3-jsonschema (tools/bootstrap installs them).
"""

import argparse
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

# ---------------------------------------------------------------------------------------------------
# YAML 1.2 as yaml-cpp and yaml-language-server read it.
#
# PyYAML implements YAML 1.1: `off`, `on`, `yes`, `no` are booleans, `2024-06-20` is a date, `010` is
# octal and `<<` merges maps. Under the YAML 1.2 core schema (yaml-cpp, and yaml-language-server by
# default) all of those are strings. The resolvers below are the core schema as planproof's loader
# types plain scalars (scalar_to_json in src/plan/loader.cpp): true/false in three spellings, decimal
# integers, decimal floats (no .inf/.nan), ~/null/empty as null, everything else a string.

CORE_RESOLVERS = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", "-+.0123456789"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]


class Yaml12Loader(yaml.SafeLoader):
    yaml_implicit_resolvers = {}

    def construct_yaml_int(self, node):
        return int(self.construct_scalar(node), 10)

    def construct_yaml_float(self, node):
        return float(self.construct_scalar(node))

    def construct_mapping(self, node, deep=False):
        # Keys are text, as the loader and JSON see them (`200:` is the key "200"); duplicates are an error.
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep)
        out = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else self.construct_object(key_node, deep=True)
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            out[key] = self.construct_object(value_node, deep=deep)
        return out


class Yaml12Dumper(yaml.SafeDumper):
    """Writes plain scalars that Yaml12Loader (and yaml-cpp) read back as the same value."""
    yaml_implicit_resolvers = {}


for tag, pattern, first in CORE_RESOLVERS:
    for cls in (Yaml12Loader, Yaml12Dumper):
        cls.add_implicit_resolver(tag, re.compile(pattern), list(first))
Yaml12Loader.add_constructor("tag:yaml.org,2002:int", Yaml12Loader.construct_yaml_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", Yaml12Loader.construct_yaml_float)


def load_plan(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Yaml12Loader)


def dump_plan(data, path):
    with open(path, "w", encoding="utf-8") as f:
        yaml.dump(data, f, Dumper=Yaml12Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)


def check_yaml12():
    """The YAML reading and writing themselves: a wrong resolver would make every other check meaningless.
    Returns what is wrong, or None."""
    doc = yaml.load("a: off\nb: yes\nc: 2024-06-20\nd: 010\ne: True\nf: 1e3\ng: ~\nh: .inf\n200: x\n",
                    Loader=Yaml12Loader)
    expected = {"a": "off", "b": "yes", "c": "2024-06-20", "d": 10, "e": True, "f": 1000.0, "g": None,
                "h": ".inf", "200": "x"}
    if doc != expected:
        return f"YAML 1.2 reading is off: {doc!r}"
    text = yaml.dump({"a": "off", "b": "true", "c": "42", "d": "2024-06-20"}, Dumper=Yaml12Dumper, sort_keys=False)
    if text != "a: off\nb: 'true'\nc: '42'\nd: 2024-06-20\n":
        return f"YAML 1.2 writing is off: {text!r}"
    return None


# ---------------------------------------------------------------------------------------------------
# Reporting

def show_path(path):
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out or "(the plan)"


def leaf_errors(error):
    """The most specific errors under `error` (anyOf/allOf/if-then errors carry their causes in context)."""
    if not error.context:
        return [error]
    out = []
    for sub in error.context:
        out.extend(leaf_errors(sub))
    return out


def all_errors(error):
    yield error
    for sub in error.context or ():
        yield from all_errors(sub)


def describe_errors(errors, limit=8):
    lines = []
    for error in errors[:limit]:
        lines.append(f"    at {show_path(error.absolute_path)}: {short(error.message)}")
        causes = leaf_errors(error)
        if causes != [error]:
            # Alternatives that failed: the deepest ones say most.
            deepest = max(len(c.absolute_path) for c in causes)
            for c in [c for c in causes if len(c.absolute_path) == deepest][:4]:
                lines.append(f"      - at {show_path(c.absolute_path)}: {short(c.message)}")
    if len(errors) > limit:
        lines.append(f"    ... and {len(errors) - limit} more")
    return "\n".join(lines)


def short(message, n=200):
    message = message.replace("\n", " ")
    return message if len(message) <= n else message[: n - 3] + "..."


class Checker:
    def __init__(self, args):
        self.source_dir = os.path.abspath(args.source_dir)
        self.planproof = os.path.abspath(args.planproof) if args.planproof else None
        self.base_plan_path = args.base_plan
        self.schema_path = args.schema or os.path.join(self.source_dir, "scenarios", "planproof.schema.json")
        with open(self.schema_path, encoding="utf-8") as f:
            self.schema = json.load(f)
        self.failures = []
        self.passed = 0
        self.keep = False  # keep the temporary plans when a case fails, for a look
        self.tmp = tempfile.TemporaryDirectory(prefix="plan_schema.")

    def fail(self, message):
        self.failures.append(message)
        print("FAIL " + message, flush=True)

    def ok(self, message):
        self.passed += 1
        print("ok   " + message, flush=True)

    def validator(self):
        return jsonschema.Draft7Validator(self.schema)

    def schema_errors(self, data):
        return sorted(self.validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))

    def rel(self, path):
        return os.path.relpath(path, self.source_dir) if path.startswith(self.source_dir) else path

    def need_planproof(self):
        if not self.planproof or not os.access(self.planproof, os.X_OK):
            raise SystemExit(f"check_plan_schema: this check runs the loader: pass --planproof EXE (got {self.planproof!r})")

    def run(self, *argv, cwd=None):
        return subprocess.run([self.planproof, *argv], cwd=cwd, capture_output=True, text=True, timeout=60)

    def loader(self, path):
        """(accepted, diagnostics) as `planproof render` says."""
        r = self.run("render", path)
        if r.returncode not in (0, 2):
            raise SystemExit(f"check_plan_schema: `planproof render {path}` exited {r.returncode}:\n{r.stderr}")
        return r.returncode == 0, r.stderr.strip()

    # --- checks -----------------------------------------------------------------------------------

    def check_draft7(self):
        problem = check_yaml12()
        if problem:
            self.fail(problem)
            return
        try:
            jsonschema.Draft7Validator.check_schema(self.schema)
        except jsonschema.SchemaError as e:
            self.fail(f"{self.rel(self.schema_path)} is not a valid draft-07 schema: at "
                      f"{show_path(e.absolute_path)}: {short(e.message)}")
            return
        if self.schema.get("$schema") != "http://json-schema.org/draft-07/schema#":
            self.fail(f"{self.rel(self.schema_path)}: $schema must be http://json-schema.org/draft-07/schema#")
            return
        for key in ("$id", "title", "description"):
            if not self.schema.get(key):
                self.fail(f"{self.rel(self.schema_path)}: missing {key}")
                return
        # Every local $ref resolves.
        resolver = jsonschema.RefResolver.from_schema(self.schema)
        refs = set()

        def walk(node):
            if isinstance(node, dict):
                if isinstance(node.get("$ref"), str):
                    refs.add(node["$ref"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(self.schema)
        for ref in sorted(refs):
            try:
                resolver.resolve(ref)
            except jsonschema.RefResolutionError as e:
                self.fail(f"{self.rel(self.schema_path)}: $ref {ref} does not resolve: {e}")
                return
        self.ok(f"{self.rel(self.schema_path)} is a valid draft-07 schema ({len(refs)} definitions referenced)")

    def expect_valid(self, path, label=None, must_load=True):
        label = label or self.rel(path)
        try:
            data = load_plan(path)
        except yaml.YAMLError as e:
            self.fail(f"{label}: cannot be read as YAML 1.2: {e}")
            return
        if self.planproof:
            accepted, diagnostics = self.loader(path)
            if not accepted:
                if must_load:
                    self.fail(f"{label}: the loader rejects it (it is meant to be a valid plan):\n{diagnostics}")
                else:
                    print(f"skip {label}: the loader rejects it, so the schema may too", flush=True)
                return
        errors = self.schema_errors(data)
        if errors:
            self.fail(f"{label}: the loader accepts it but the schema rejects it:\n{describe_errors(errors)}")
        else:
            self.ok(f"{label} validates")

    def check_plans(self):
        self.need_planproof()
        scenarios = sorted(glob.glob(os.path.join(self.source_dir, "scenarios", "*.plan.yaml")))
        if not scenarios:
            self.fail("no scenarios/*.plan.yaml found")
        for path in scenarios:
            self.expect_valid(path)
        # Test fixtures: plans (a top-level `planproof` key) the loader accepts; OpenAPI documents are
        # drafted into plans with import-openapi below.
        openapi = []
        for folder in ("tests/plan/data", "tests/cli/data"):
            for path in sorted(glob.glob(os.path.join(self.source_dir, folder, "*"))):
                if not re.search(r"\.(ya?ml|json)$", path):
                    continue
                try:
                    data = load_plan(path)
                except yaml.YAMLError:
                    data = None  # a fixture of broken YAML: the loader decides below
                if isinstance(data, dict) and "openapi" in data:
                    openapi.append(path)
                elif data is None or (isinstance(data, dict) and "planproof" in data):
                    self.expect_valid(path, must_load=False)
        r = self.run("new", "demo", cwd=self.tmp.name)
        if r.returncode != 0:
            self.fail(f"`planproof new demo` exited {r.returncode}:\n{r.stderr}")
        else:
            self.expect_valid(os.path.join(self.tmp.name, "demo.plan.yaml"), "`planproof new demo`")
        for spec in openapi:
            out = os.path.join(self.tmp.name, os.path.basename(spec) + ".plan.yaml")
            r = self.run("import-openapi", spec, "-o", out, "--force")
            if r.returncode != 0:
                print(f"skip `planproof import-openapi {self.rel(spec)}`: exit {r.returncode}", flush=True)
                continue
            self.expect_valid(out, f"`planproof import-openapi {self.rel(spec)}`", must_load=False)

    def base_plan(self):
        path = self.base_plan_path or os.path.join(self.source_dir, "scenarios", "payments.plan.yaml")
        try:
            data = load_plan(path)
        except yaml.YAMLError as e:
            raise SystemExit(f"check_plan_schema: the base plan {self.rel(path)} cannot be read as YAML 1.2: {e}")
        accepted, diagnostics = self.loader(path)
        if not accepted:
            raise SystemExit(f"check_plan_schema: the loader rejects the base plan {self.rel(path)}:\n{diagnostics}")
        return data

    def check_rejected(self):
        self.need_planproof()
        base = self.base_plan()
        for number, (name, mutate, where, says) in enumerate(REJECTED, 1):
            data = copy.deepcopy(base)
            mutate(data)
            path = os.path.join(self.tmp.name, f"rejected-{number:02d}.plan.yaml")
            dump_plan(data, path)
            label = f"rejected #{number} ({name}; {os.path.basename(path)})"
            errors = self.schema_errors(load_plan(path))
            accepted, diagnostics = self.loader(path)
            problems = []
            if not errors:
                problems.append("the schema accepts it")
            else:
                want = tuple(where)
                if not any(tuple(e.absolute_path)[: len(want)] == want for top in errors for e in all_errors(top)):
                    problems.append(f"the schema rejects it, but not at {show_path(want)}:\n{describe_errors(errors)}")
            if accepted:
                problems.append("the loader accepts it")
            elif says not in diagnostics:
                problems.append(f"the loader rejects it, but does not say {says!r}:\n{diagnostics}")
            if problems:
                self.fail(f"{label}: " + "; ".join(problems) + f"\n    (plan kept at {path})")
                self.keep = True
            else:
                first = errors[0]
                self.ok(f"{label}: schema at {show_path(first.absolute_path)}, loader: {diagnostics.splitlines()[0].split(': error: ', 1)[-1][:90]}")

    def check_accepted(self):
        self.need_planproof()
        base = self.base_plan()
        for number, (name, mutate) in enumerate(ACCEPTED, 1):
            data = copy.deepcopy(base)
            mutate(data)
            path = os.path.join(self.tmp.name, f"accepted-{number:02d}.plan.yaml")
            dump_plan(data, path)
            label = f"accepted #{number} ({name}; {os.path.basename(path)})"
            accepted, diagnostics = self.loader(path)
            errors = self.schema_errors(load_plan(path))
            problems = []
            if not accepted:
                problems.append(f"the loader rejects it (the case is meant to be a valid plan):\n{diagnostics}")
            if errors:
                problems.append(f"the schema rejects it:\n{describe_errors(errors)}")
            if problems:
                self.fail(f"{label}: " + "; ".join(problems) + f"\n    (plan kept at {path})")
                self.keep = True
            else:
                self.ok(f"{label}: loader and schema accept it")


# ---------------------------------------------------------------------------------------------------
# Cases. Each mutates a copy of scenarios/payments.plan.yaml, relying only on what every plan has (the
# required sections, a first outbound endpoint, a first failure mode): the example can change freely.

def at(data, *path):
    for p in path:
        data = data[p]
    return data


def setting(*path, value):
    """Sets data[path...] = value, creating maps on the way."""
    def mutate(data):
        node = data
        for p in path[:-1]:
            node = node.setdefault(p, {}) if isinstance(p, str) else node[p]
        node[path[-1]] = copy.deepcopy(value)
    return mutate


def deleting(*path):
    def mutate(data):
        node = at(data, *path[:-1])
        if isinstance(node, dict):
            node.pop(path[-1], None)
        else:
            del node[path[-1]]
    return mutate


def renaming(*path, to):
    def mutate(data):
        node = at(data, *path[:-1])
        node[to] = node.pop(path[-1])
    return mutate


def doing(*mutations):
    def mutate(data):
        for m in mutations:
            m(data)
    return mutate


def first_endpoint_id(data):
    return data["endpoints"][0]["id"]


def with_mapping(*fields, **mapping):
    def mutate(data):
        m = {"endpoint": first_endpoint_id(data), "unmapped": "ignore"}
        m.update(mapping)
        m["fields"] = list(fields)
        data["mapping"] = [m]
    return mutate


def inserting_endpoint(endpoint):
    def mutate(data):
        data["endpoints"].insert(0, copy.deepcopy(endpoint))
    return mutate


def appending_failure_mode(mode):
    def mutate(data):
        data["failure_modes"].append(copy.deepcopy(mode))
    return mutate


FM = ("failure_modes", 0)
EP = ("endpoints", 0)
INJECT = FM + ("inject",)
EXPECT = FM + ("expect",)

# (name, mutation, JSON path where the schema must report, what the loader must say)
REJECTED = [
    ("unknown top-level key", setting("retries", value={"max_attempts": 2}), (), "unknown key 'retries'"),
    ("misspelled key in retry", renaming("retry", "max_attempts", to="max_attemps"), ("retry",), "unknown key 'max_attemps'"),
    ("max_attempts of the wrong type", setting("retry", "max_attempts", value="four"), ("retry", "max_attempts"), "expected an integer >= 1"),
    ("max_attempts a list", setting("retry", "max_attempts", value=[4]), ("retry", "max_attempts"), "expected an integer >= 1"),
    ("max_attempts 0", setting("retry", "max_attempts", value=0), ("retry", "max_attempts"), "expected an integer >= 1"),
    ("duration '5 seconds'", setting("retry", "timeouts", "read", value="5 seconds"), ("retry", "timeouts", "read"), "expected a duration"),
    ("duration without a unit", setting("retry", "backoff", "base", value=200), ("retry", "backoff", "base"), "expected a duration"),
    ("total timeout 0s", setting("retry", "timeouts", "total", value="0s"), ("retry", "timeouts", "total"), "expected a duration > 0"),
    ("unknown fault name", setting(*INJECT, value={"fault": "explode"}), INJECT, "unknown fault 'explode'"),
    ("retry_after on a hang fault", setting(*INJECT, value={"fault": "hang", "retry_after": "2s"}), INJECT, "retry_after does not apply to fault 'hang'"),
    ("status on a latency fault", setting(*INJECT, value={"fault": "latency", "latency": "1s", "status": 503}), INJECT, "status does not apply to fault 'latency'"),
    ("status fault without status", setting(*INJECT, value={"fault": "status", "retry_after": "1s"}), INJECT, "missing required key 'status'"),
    ("unknown key on a status fault", setting(*INJECT, value={"fault": "status", "status": 503, "rate": 0.5}), INJECT, "unknown key 'rate'"),
    ("unknown malformation", setting(*INJECT, value={"fault": "malformed", "malformed": "garbled"}), INJECT, "unknown malformation 'garbled'"),
    ("fault status 700", setting(*INJECT, value={"fault": "status", "status": 700}), INJECT + ("status",), "expected an HTTP status 100..599"),
    ("probability '150%'", setting(*INJECT, value={"fault": "status", "status": 503, "probability": "150%"}), INJECT + ("probability",), "expected a ratio"),
    ("probability 1.5", setting(*INJECT, value={"fault": "hang", "probability": 1.5}), INJECT + ("probability",), "expected a ratio"),
    ("during with one duration", setting(*INJECT, value={"fault": "hang", "during": ["10s"]}), INJECT + ("during",), "expected [FROM, TO]"),
    ("inject an empty list", setting(*INJECT, value=[]), INJECT, "expected a fault (a map) or a non-empty list"),
    ("tls fault without tls", setting(*INJECT, value={"fault": "tls", "first": 1}), INJECT, "missing required key 'tls'"),
    ("unknown tls fault", setting(*INJECT, value={"fault": "tls", "tls": "slow_handshake"}), INJECT, "unknown TLS fault 'slow_handshake'"),
    ("tls fault on an endpoint", lambda data: setting(*INJECT, value={"fault": "tls", "tls": "expired_certificate", "endpoint": first_endpoint_id(data)})(data),
     INJECT, "endpoint does not apply to a tls fault"),
    ("inject missing", deleting(*INJECT), FM, "missing required key 'inject'"),
    ("unknown expectation", setting(*EXPECT, "eventually_consistent", value=True), EXPECT, "unknown expectation 'eventually_consistent'"),
    ("honors_retry_after: maybe", setting(*EXPECT, "honors_retry_after", value="maybe"), EXPECT + ("honors_retry_after",), "expected true or false"),
    ("success_rate '>= 1.5'", setting(*EXPECT, "success_rate", value=">= 1.5"), EXPECT + ("success_rate",), "expected a ratio or a comparison"),
    ("max_attempts '<= four'", setting(*EXPECT, "max_attempts", value="<= four"), EXPECT + ("max_attempts",), "expected a count or a comparison"),
    ("lost -1", setting(*EXPECT, "lost", value=-1), EXPECT + ("lost",), "expected a count or a comparison"),
    ("unknown auth method", setting("auth", value={"method": "password", "key": "env:KEY"}), ("auth", "method"), "unknown auth method 'password'"),
    ("api_key auth missing key", setting("auth", value={"method": "api_key", "header": "X-Api-Key"}), ("auth",), "missing required key 'key'"),
    ("literal secret key: abc123", setting("auth", value={"method": "api_key", "key": "abc123"}), ("auth", "key"), "must be a secret reference"),
    ("api_key in: query without param", setting("auth", value={"method": "api_key", "in": "query", "key": "env:KEY"}), ("auth",), "missing required key 'param'"),
    ("api_key in: header with param", setting("auth", value={"method": "api_key", "in": "header", "param": "k", "key": "env:KEY"}), ("auth",), "param applies only with in: query"),
    ("bearer key of api_key", setting("auth", value={"method": "bearer", "token": "env:T", "key": "env:K"}), ("auth",), "unknown key 'key'"),
    ("rotation with method none", setting("auth", value={"method": "none", "rotation": "90d"}), ("auth",), "unknown key 'rotation'"),
    ("hmac with a jwt algorithm", setting("auth", value={"method": "hmac", "secret": "env:S", "algorithm": "RS256"}), ("auth", "algorithm"), "unknown algorithm 'RS256'"),
    ("hmac component listed twice", setting("auth", value={"method": "hmac", "secret": "env:S", "signed_components": ["method", "method"]}), ("auth", "signed_components"), "'method' is listed twice"),
    ("oauth2 token_url not a path", setting("auth", value={"method": "oauth2_client_credentials", "token_url": "oauth/token", "client_secret": "env:S"}), ("auth", "token_url"), "expected a path starting with '/' or an http(s) URL"),
    ("mtls without client_key", setting("auth", value={"method": "mtls", "client_cert": "file:cert.pem"}), ("auth",), "missing required key 'client_key'"),
    ("jitter random", setting("retry", "backoff", "jitter", value="random"), ("retry", "backoff", "jitter"), "unknown jitter 'random'"),
    ("multiplier with constant backoff", setting("retry", "backoff", value={"strategy": "constant", "base": "1s", "multiplier": 2}), ("retry", "backoff"), "multiplier applies only to exponential backoff"),
    ("multiplier 1", setting("retry", "backoff", value={"multiplier": 1}), ("retry", "backoff", "multiplier"), "expected a number > 1"),
    ("unknown error class in retry_on", setting("retry", "retry_on", value=[429, "timeout_error"]), ("retry", "retry_on", 1), "expected an HTTP status 100..599 or an error class"),
    ("status 700 in retry_on", setting("retry", "retry_on", value=[429, 700]), ("retry", "retry_on", 1), "expected an HTTP status 100..599 or an error class"),
    ("circuit_breaker: disabled", setting("retry", "circuit_breaker", value="disabled"), ("retry", "circuit_breaker"), "expected off or a map"),
    ("count window of 30s", setting("retry", "circuit_breaker", value={"window": "count", "size": "30s"}), ("retry", "circuit_breaker"), "expected an integer >= 1 (calls in the window)"),
    ("failure_rate 0%", setting("retry", "circuit_breaker", value={"failure_rate": "0%"}), ("retry", "circuit_breaker"), "expected a ratio > 0"),
    ("slow_call without threshold", setting("retry", "circuit_breaker", value={"slow_call": {"rate": "50%"}}), ("retry", "circuit_breaker"), "missing required key 'threshold'"),
    ("retry_budget ratio 2", setting("retry", "retry_budget", value={"ratio": 2}), ("retry", "retry_budget"), "expected a ratio"),
    ("retry_budget ttl 0s", setting("retry", "retry_budget", value={"ttl": "0s"}), ("retry", "retry_budget"), "expected a duration > 0"),
    ("multiplier with linear backoff", setting("retry", "backoff", value={"strategy": "linear", "base": "1s", "multiplier": 2}), ("retry", "backoff"), "multiplier applies only to exponential backoff"),
    ("two breaker modes", setting("retry", "circuit_breaker", value={"failure_rate": "50%", "consecutive_failures": 3}), ("retry", "circuit_breaker"), "belong to different ways of opening the breaker"),
    ("consecutive and per-interval breaker", setting("retry", "circuit_breaker", value={"consecutive_failures": 3, "failures_per_interval": {"count": 3}}), ("retry", "circuit_breaker"), "belong to different ways of opening the breaker"),
    ("slow_call rate 0", setting("retry", "circuit_breaker", value={"slow_call": {"threshold": "1s", "rate": 0}}), ("retry", "circuit_breaker"), "expected a ratio > 0"),
    ("failures_per_interval count 0", setting("retry", "circuit_breaker", value={"failures_per_interval": {"count": 0, "interval": "10s"}}), ("retry", "circuit_breaker"), "expected an integer >= 1"),
    ("half_open_max_wait 0s", setting("retry", "circuit_breaker", value={"half_open_max_wait": "0s"}), ("retry", "circuit_breaker"), "expected a duration > 0"),
    ("unknown error class read_timeouts", setting("retry", "fatal_on", value=["read_timeouts"]), ("retry", "fatal_on", 0), "expected an HTTP status 100..599 or an error class"),
    ("idempotency without approach", setting("retry", "idempotency", value={"notes": "keys"}), ("retry", "idempotency"), "missing required key 'approach'"),
    ("empty dead-letter path", setting("retry", "dead_letter", value={"path": ""}), ("retry", "dead_letter", "path"), "expected a non-empty string"),
    ("endpoint status 700", setting(*EP, "statuses", value={"success": [200, 201], "fatal": [400, 700]}), EP + ("statuses", "fatal", 1), "expected an HTTP status 100..599"),
    ("statuses not a list", setting(*EP, "statuses", value={"success": 200}), EP + ("statuses", "success"), "expected a list of HTTP statuses"),
    ("endpoint path without '/'", setting(*EP, "path", value="v1/payments"), EP + ("path",), "expected a path starting with '/'"),
    ("path parameter with a blank", setting(*EP, "path", value="/v1/payments/{payment id}"), EP + ("path",), "expected a parameter name"),
    ("unknown HTTP method", setting(*EP, "method", value="FETCH"), EP + ("method",), "unknown HTTP method"),
    ("endpoint id with a blank", setting(*EP, "id", value="create payment"), EP + ("id",), "expected an id made of letters"),
    ("header name with a blank", setting(*EP, "idempotency", value={"header": "Idempotency Key"}), EP + ("idempotency", "header"), "expected a header name"),
    ("signature on an outbound endpoint", setting(*EP, "signature", value={"header": "Signature", "secret": "env:S"}), EP, "signature applies only to inbound endpoints"),
    ("idempotency on an inbound endpoint", inserting_endpoint({"id": "hook", "direction": "inbound", "path": "/hook", "idempotency": {"header": "Idempotency-Key"}}), EP, "idempotency applies only to outbound endpoints"),
    ("rate '20 per second'", setting("traffic", "rate", value="20 per second"), ("traffic", "rate"), "expected a rate"),
    ("concurrency 0", setting("traffic", "concurrency", value=0), ("traffic", "concurrency"), "expected an integer from 1 to 10000"),
    ("concurrency 10001", setting("traffic", "concurrency", value=10001), ("traffic", "concurrency"), "expected an integer from 1 to 10000"),
    ("traffic missing", deleting("traffic"), (), "missing required key 'traffic'"),
    ("unknown traffic profile", setting("traffic", "profile", value="spike"), ("traffic", "profile"), "unknown traffic profile 'spike'"),
    ("from with the default profile", setting("traffic", "from", value="2/s"), ("traffic", "from"), "key 'from' does not belong to profile constant"),
    ("ramp without from", setting("traffic", "profile", value="ramp"), ("traffic",), "missing required key 'from'"),
    ("burst without burst", setting("traffic", "profile", value="burst"), ("traffic",), "missing required key 'burst'"),
    ("burst without length", doing(setting("traffic", "profile", value="burst"), setting("traffic", "burst", value={"rate": "500/s", "every": "10s"})),
     ("traffic", "burst"), "missing required key 'length'"),
    ("burst every 0s", doing(setting("traffic", "profile", value="burst"), setting("traffic", "burst", value={"rate": "500/s", "every": "0s", "length": "1s"})),
     ("traffic", "burst", "every"), "expected a duration > 0"),
    ("think_time with a ramp", doing(setting("traffic", "profile", value="ramp"), setting("traffic", "from", value="1/s"), setting("traffic", "think_time", value="1s")),
     ("traffic", "think_time"), "key 'think_time' does not belong to profile ramp"),
    ("ramp without rate", doing(setting("traffic", "profile", value="ramp"), setting("traffic", "from", value="1/s"), deleting("traffic", "rate")),
     ("traffic",), "missing required key 'rate'"),
    ("failure mode traffic with an unknown key", setting(*FM, "traffic", value={"rte": "5/s"}), FM + ("traffic",), "unknown key 'rte'"),
    ("failure mode burst with from", setting(*FM, "traffic", value={"profile": "burst", "from": "1/s", "burst": {"rate": "500/s", "every": "10s", "length": "1s"}}),
     FM + ("traffic", "from"), "key 'from' does not belong to profile burst"),
    ("failure mode traffic not a map", setting(*FM, "traffic", value="20/s"), FM + ("traffic",), "expected a map"),
    ("no endpoints", setting("endpoints", value=[]), ("endpoints",), "expected at least one endpoint"),
    ("no failure modes", doing(setting("failure_modes", value=[]), deleting("phases")), ("failure_modes",), "expected at least one failure mode"),
    ("format version 2", setting("planproof", value=2), ("planproof",), "unsupported plan format version 2"),
    ("integration without name", setting("integration", value={"system": "Acme"}), ("integration",), "missing required key 'name'"),
    ("assumptions inside integration", setting("integration", "assumptions", value=["x"]), ("integration",), "assumptions moved to the top level"),
    ("request schema with an unknown keyword", setting(*EP, "request", value={"schema": {"type": "object", "minimum_value": 1}}), EP + ("request", "schema"), "unknown JSON Schema keyword 'minimum_value'"),
    ("request schema of an unknown type", setting(*EP, "request", value={"schema": {"type": "decimal"}}), EP + ("request", "schema", "type"), "unknown type 'decimal'"),
    ("query example of the wrong type", setting(*EP, "query", value={"limit": {"type": "integer", "example": "ten"}}), EP + ("query", "limit", "example"), "expected integer, got string"),
    ("link_header pagination with param", setting(*EP, "pagination", value={"style": "link_header", "param": "page"}), EP + ("pagination",), "param does not apply to link_header pagination"),
    ("page pagination without param", setting(*EP, "pagination", value={"style": "page"}), EP + ("pagination",), "missing required key 'param'"),
    ("max_page_size 0", setting(*EP, "pagination", value={"style": "cursor", "param": "cursor", "max_page_size": 0}), EP + ("pagination", "max_page_size"), "expected an integer >= 1"),
    ("on_page_shift not a choice", setting(*EP, "pagination", value={"style": "page", "param": "page", "on_page_shift": "retry"}), EP + ("pagination", "on_page_shift"), "expected refetch or ignore"),
    ("header versioning without header", setting(*EP, "versioning", value={"style": "header", "value": "2024-06-20"}), EP + ("versioning",), "missing required key 'header'"),
    ("complexity extreme", setting("phases", value=[{"name": "phase1", "complexity": "extreme"}]), ("phases", 0, "complexity"), "unknown complexity 'extreme'"),
    ("phase retry with a misspelled key", setting("phases", value=[{"name": "phase1", "settings": {"retry": {"max_attempt": 2}}}]), ("phases", 0, "settings", "retry"), "unknown key 'max_attempt'"),
    ("phase retry jitter random", setting("phases", value=[{"name": "phase1", "settings": {"retry": {"backoff": {"jitter": "random"}}}}]), ("phases", 0, "settings", "retry", "backoff", "jitter"), "unknown jitter 'random'"),
    ("unmapped: preserve without preserve_to", with_mapping({"source": "id", "target": "payment.id"}, unmapped="preserve"), ("mapping", 0), "missing required key 'preserve_to'"),
    ("preserve_to with unmapped: ignore", with_mapping({"source": "id", "target": "payment.id"}, preserve_to="payment.extra"), ("mapping", 0), "preserve_to applies only with unmapped: preserve"),
    ("mapping without unmapped", doing(with_mapping({"source": "id", "target": "payment.id"}), deleting("mapping", 0, "unmapped")), ("mapping", 0), "missing required key 'unmapped'"),
    ("unknown transform", with_mapping({"source": "id", "target": "payment.id", "transform": "reverse"}), ("mapping", 0, "fields", 0, "transform"), "unknown transform 'reverse'"),
    ("scale 0", with_mapping({"source": "amount", "target": "payment.amount", "type": "number", "transform": {"scale": 0}}), ("mapping", 0, "fields", 0, "transform"), "expected a non-zero factor"),
    ("concat not first", with_mapping({"source": "a", "target": "payment.name", "transform": ["trim", {"concat": {"sources": ["a", "b"]}}]}), ("mapping", 0, "fields", 0, "transform"), "concat must be the first step"),
    ("concat with a source", with_mapping({"source": "a", "target": "payment.name", "transform": {"concat": {"sources": ["a", "b"]}}}), ("mapping", 0, "fields", 0), "source does not apply with a concat transform"),
    ("field without source or default", with_mapping({"target": "payment.id"}), ("mapping", 0, "fields", 0), "missing required key 'source'"),
    ("numeric bound on a string field", with_mapping({"source": "id", "target": "payment.id", "validate": ">= 0"}), ("mapping", 0, "fields", 0, "validate"), "a numeric bound applies to integer and number fields"),
    ("regex on an integer field", with_mapping({"source": "n", "target": "payment.n", "type": "integer", "validate": {"regex": "^[0-9]+$"}}), ("mapping", 0, "fields", 0, "validate"), "regex applies to text fields"),
    ("default of the wrong type", with_mapping({"target": "payment.n", "type": "integer", "default": "abc"}), ("mapping", 0, "fields", 0, "default"), "expected a default of type integer"),
    ("field path with '..'", with_mapping({"source": "order..id", "target": "payment.id"}), ("mapping", 0, "fields", 0, "source"), "expected a field path"),
]


def _variant_mapping(data):
    with_mapping(
        {"source": "id", "target": "payment.id", "type": "string", "required": True, "transform": "rename",
         "validate": {"regex": "^pay_", "min_length": 3, "max_length": "64", "enum": ["pay_1", 2, True]}},
        {"target": "payment.label", "transform": {"concat": {"sources": ["currency", "amount"], "separator": 1}}},
        {"target": "payment.label2", "transform": [{"concat": {"sources": ["a.b", "c"]}}, "trim", "uppercase"]},
        {"source": "amount", "target": "payment.amount", "type": "number", "transform": {"scale": "0.01"},
         "validate": {"min": 0, "max": "1e6"}},
        {"source": "n", "target": "payment.n", "type": "integer", "default": 3, "validate": "< 1e3"},
        {"source": "status", "target": "payment.status", "type": "enum",
         "transform": [{"enum_map": {"succeeded": "ok", "1": 2, "yes": "no"}}, "lowercase"]},
        {"source": "flag", "target": "payment.flag", "type": "boolean", "default": False, "validate": {"enum": [True]}},
        {"source": "created", "target": "payment.created", "type": "timestamp", "transform": "unix_to_rfc3339"},
        {"target": "payment.source", "default": 42},
        {"source": 7, "target": "payment.seven", "type": "date"},
        unmapped="preserve", preserve_to="payment.extra", direction="response",
    )(data)


ACCEPTED = [
    ("a ramp", doing(setting("traffic", "profile", value="ramp"), setting("traffic", "from", value="1/s"))),
    ("a burst", doing(setting("traffic", "profile", value="burst"),
                      setting("traffic", "burst", value={"rate": "500/s", "every": "20s", "length": "2s", "at": 0}))),
    ("a closed loop without rate", doing(setting("traffic", "profile", value="closed_loop"), deleting("traffic", "rate"),
                                         setting("traffic", "think_time", value="50ms"))),
    ("a closed loop with the plan's rate", setting("traffic", "profile", value="closed_loop")),
    ("explicit constant", setting("traffic", "profile", value="constant")),
    ("durations in parts", doing(setting("traffic", "duration", value="1m30s"), setting("retry", "timeouts", "total", value="1m0.5s"))),
    ("failure mode traffic", doing(setting(*FM, "traffic", value={"rate": "5/s", "duration": "10s"}),
                                   setting("failure_modes", 1, "traffic", value={"profile": "closed_loop", "concurrency": 2}))),
    ("failure mode ramp over the plan's constant", setting(*FM, "traffic", value={"profile": "ramp", "from": "1/s"})),
    ("circuit_breaker: off and retry_budget: false", doing(setting("retry", "circuit_breaker", value="off"), setting("retry", "retry_budget", value=False))),
    ("the full retry", setting("retry", value={
        "max_attempts": 5,
        "backoff": {"strategy": "exponential", "base": 0, "max": "1.5m", "jitter": "decorrelated", "multiplier": "2.5"},
        "retry_on": [429, "503", " 502 ", "timeout", "connection_error", "protocol_error"],
        "fatal_on": [400, "schema_error"],
        "retry_after": {"honor": "true", "cap": "0"},
        "timeouts": {"connect": ".5s", "read": "2000ms", "total": "1h"},
        "dead_letter": {"path": "dl.jsonl"},
        "retry_budget": {"ratio": "10%", "min_per_second": "0"},
        "circuit_breaker": {"window": "time", "size": "30s", "failure_rate": 1, "min_calls": "20",
                            "slow_call": {"threshold": "5s", "rate": 0.8}, "open_for": "45s", "half_open_calls": 5},
        "idempotency": {"approach": "natural_key", "notes": 42}})),
    ("linear backoff, fine error classes, a retry budget window", setting("retry", value={
        "max_attempts": 4,
        "backoff": {"strategy": "linear", "base": "200ms", "max": "2s", "jitter": "equal"},
        "retry_on": [503, "connect_timeout", "connection_error", "tls_error"],
        "fatal_on": ["reset", "read_timeout"],
        "retry_budget": {"ratio": "20%", "min_per_second": 1, "ttl": "30s"}})),
    ("consecutive-failures breaker", setting("retry", "circuit_breaker", value={
        "consecutive_failures": "4", "open_for": "10s", "half_open_calls": 1, "half_open_max_wait": "1m"})),
    ("failures-per-interval breaker", setting("retry", "circuit_breaker", value={
        "failures_per_interval": {"count": 10, "interval": "1m"}, "open_for": "10s"})),
    ("numbers and booleans as text", doing(
        setting("integration", "description", value=42), setting("integration", "system", value=True),
        setting("integration", "base_url", value="yes"), setting("assumptions", value=["on", 1, False, "2024-06-20"]),
        setting(*FM, "description", value=3.5), setting(*FM, "detection", value="off"))),
    ("quoted numbers where numbers go", doing(
        setting("planproof", value="1"), setting("retry", "max_attempts", value="4"),
        setting("traffic", "concurrency", value="+8"), setting(*EP, "statuses", value={"success": ["200", 201]}))),
    ("header values that YAML types", setting(*EP, "headers", value={"X-Flag": False, "X-Count": 3, "Accept": "application/json", "X-Key": "env:EXTRA_KEY"})),
    ("inject as a list", lambda data: setting(*INJECT, value=[
        {"fault": "status", "status": "503", "retry_after": 0, "probability": 1, "during": [0, "10s"]},
        {"fault": "latency", "latency": "250ms", "probability": "30%", "endpoint": first_endpoint_id(data)}])(data)),
    ("every supported fault", setting(*INJECT, value=[
        {"fault": "hang", "probability": 0.25, "during": ["1.5s", "1m"]},
        {"fault": "malformed"}, {"fault": "malformed", "malformed": "truncated"},
        {"fault": "latency", "latency": "0"}])),
    ("tls faults picking connections", setting(*INJECT, value=[
        {"fault": "tls", "tls": "untrusted_certificate", "first": 1},
        {"fault": "tls", "tls": "no_client_certificate_required", "probability": "10%", "during": ["0s", "1m"]}])),
    ("a not yet supported fault takes any key", appending_failure_mode(
        {"id": "pages", "inject": {"fault": "burst", "windows": [{"from": "1s"}], "status": "anything", "x": None},
         "expect": {"recovers_within": "30s", "detected_as": "schema_error"}})),
    ("expectations in every form", setting(*EXPECT, value={
        "success_rate": 0.99, "max_attempts": 4, "honors_retry_after": "TRUE", "lost": "== 0", "dead_lettered": "<= 10"})),
    ("more expectation forms", setting(*EXPECT, value={
        "success_rate": "99.5%", "max_attempts": "< 5", "honors_retry_after": False, "lost": "0", "dead_lettered": 3})),
    ("an id that YAML reads as a number", appending_failure_mode({"id": 42, "inject": {"fault": "hang"}})),
    ("lowercase method and path parameters", doing(
        setting(*EP, "method", value="post"),
        setting(*EP, "path", value="/v1/payments/{payment_id}/{Part2}"),
        setting(*EP, "path_params", value={"payment_id": {"type": "string", "example": "pay_1", "description": "id"},
                                           "Part2": {"type": "integer", "example": 2}}),
        setting(*EP, "query", value={"limit": {"type": "integer", "required": True, "example": 10},
                                     "expand": {"description": "what to expand"},
                                     "ratio": {"type": "number", "example": 1}, "dry": {"type": "boolean", "example": True}}))),
    ("versioning forms", doing(
        setting(*EP, "versioning", value={"style": "header", "header": "X-Api-Version", "value": 59.0}),
        inserting_endpoint({"id": "get_v2", "path": "/v2/things", "versioning": {"style": "path", "value": "v2"}}),
        inserting_endpoint({"id": "get_q", "path": "/things", "versioning": {"style": "query", "param": "api-version", "value": "2024-06-20"}}))),
    ("outbound-only keys", doing(
        setting(*EP, "rate_limit", value="0.5/s"), setting(*EP, "timeout", value="2s"),
        setting(*EP, "pagination", value={"style": "cursor", "param": "starting_after", "limit_param": "limit",
                                          "max_page_size": "100", "has_more": "has_more", "next_cursor": "data.next", "items": "data"}),
        inserting_endpoint({"id": "list_page", "path": "/pages", "pagination": {"style": "page", "param": "page",
                                                                               "on_page_shift": "refetch"}}),
        inserting_endpoint({"id": "list_link", "path": "/links", "pagination": {"style": "link_header", "items": "items",
                                                                               "collection": "250", "on_page_shift": "ignore"}}))),
    ("pagination faults", doing(
        inserting_endpoint({"id": "list_page", "path": "/pages", "pagination": {"style": "page", "param": "page", "collection": 0}}),
        appending_failure_mode({"id": "pages", "inject": [
            {"fault": "pagination", "breakage": "invalid_cursor", "status": "410", "error_code": "EXPIRED", "endpoint": "list_page"},
            {"fault": "pagination", "breakage": "shifted_page", "probability": 0.1}]}))),
    ("an inbound endpoint", inserting_endpoint({
        "id": "payment_events", "direction": "inbound", "path": "/webhooks/payments", "method": "POST",
        "signature": {"scheme": "hmac-sha512", "header": "Signature", "secret": "file:/run/secrets/hook", "tolerance": "5m",
                      "timestamp_header": "X-Timestamp"},
        "dedup_key": "event.id", "headers": {"Content-Type": "application/json"},
        "request": {"example": {"event": {"id": 1}}}, "response": {"status": 202}})),
    ("endpoint schemas", setting(*EP, "response", value={
        "status": "201",
        "headers": {"Retry-After": "seconds", "X-Count": 1},
        "schema": {"type": "object", "required": ["id"], "additionalProperties": "true",
                   "properties": {
                       "id": {"type": ["string", "null"], "minLength": "1", "pattern": "^pay_", "description": 5},
                       "n": {"type": "number", "minimum": "0", "maximum": 1e9, "exclusiveMinimum": -1, "nullable": "false"},
                       "items": {"type": "array", "items": {"$ref": "#/properties/id"}, "minItems": 0, "maxItems": 9},
                       "kind": {"enum": ["a", 1, None, {"x": 1}], "default": None, "const": "a", "format": "byte"},
                       "any": {"oneOf": [{"type": "string"}, {"type": "integer"}], "anyOf": [{}], "allOf": [{"$ref": "#"}]},
                       "extra": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "example": {"id": "pay_1", "kind": "a"}})),
    ("auth none", setting("auth", value={"method": "none"})),
    ("auth none with security notes", setting("auth", value={"method": "none", "security_notes": ["the sandbox is open"]})),
    ("auth api_key in a query", setting("auth", value={"method": "api_key", "in": "query", "param": "api_key", "key": "env:K",
                                                      "rotation": "90d", "required_scopes": ["payments"], "security_notes": ["vault"]})),
    ("auth bearer", setting("auth", value={"method": "bearer", "token": "file:token.txt"})),
    ("auth oauth2", setting("auth", value={"method": "oauth2_client_credentials", "token_url": "https://auth.example/token",
                                           "client_id": "my-client", "client_secret": "env:S", "scopes": ["a", "b"],
                                           "audience": "api", "refresh_before_expiry": 0, "token_lifetime": "2h"})),
    ("auth hmac", setting("auth", value={"method": "hmac", "algorithm": "sha512", "secret": "env:S", "header": "X-Sig",
                                         "signed_components": ["method", "path", "query", "timestamp", "body", "host"],
                                         "timestamp_header": "X-TS", "tolerance": "30s"})),
    ("auth mtls", setting("auth", value={"method": "mtls", "client_cert": "file:c.pem", "client_key": "file:k.pem", "ca": "file:ca.pem"})),
    ("auth jwt", setting("auth", value={"method": "jwt", "signing_key": "env:JWT", "algorithm": "ES256",
                                        "claims": {"iss": "me", "iat": 1700000000, "admin": True}, "lifetime": "5m", "header": "Authorization"})),
    ("a full mapping", _variant_mapping),
    ("mapping direction and unmapped: reject", with_mapping({"source": "amount", "target": "amount", "validate": {"enum": [1]}},
                                                            unmapped="reject", direction="request")),
    ("phase overlays merged over the plan's retry", doing(
        setting("retry", "circuit_breaker", value={"window": "time", "size": "60s", "slow_call": {"threshold": "2s"}}),
        setting("retry", "idempotency", value={"approach": "header"}),
        setting("phases", value=[
            {"name": "phase1", "description": "first", "deliverables": ["a"], "complexity": "low", "dependencies": [],
             "risks": ["r"], "success_criteria": ["s"], "triggers": ["t"], "failure_modes": [],
             "settings": {"retry": {"circuit_breaker": {"size": "30s", "slow_call": {"rate": "50%"}},
                                    "idempotency": {"notes": "header keys"}, "max_attempts": 2}}},
            {"name": "phase2", "complexity": "high", "settings": {"retry": {"circuit_breaker": "off", "retry_budget": "off",
                                                                            "backoff": {"jitter": "none"}, "retry_on": [503]}}},
            {"name": 3, "settings": {"retry": {}}}]))),
    ("observability and prose", setting(*FM, "observability", value={"logs": ["request id"], "correlation_id": "X-Request-Id", "metrics": []})),
    ("verification and no phases", doing(setting("verification", value=["planproof run in CI"]), deleting("phases"))),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", required=True, help="the planproof source tree")
    parser.add_argument("--planproof", help="the built planproof executable (the loader)")
    parser.add_argument("--schema", help="the schema to check (default SOURCE_DIR/scenarios/planproof.schema.json)")
    parser.add_argument("--base-plan", help="the plan the rejected and accepted cases mutate (default SOURCE_DIR/scenarios/payments.plan.yaml)")
    parser.add_argument("checks", nargs="+", choices=["draft7", "plans", "rejected", "accepted"])
    args = parser.parse_args()
    checker = Checker(args)
    for check in args.checks:
        if check != "draft7":
            try:
                jsonschema.Draft7Validator.check_schema(checker.schema)
            except jsonschema.SchemaError as e:
                checker.fail(f"{checker.rel(checker.schema_path)} is not a valid draft-07 schema (at "
                             f"{show_path(e.absolute_path)}: {short(e.message)}): cannot check {check}")
                continue
        getattr(checker, "check_" + check)()
    if checker.keep:
        checker.tmp._finalizer.detach()
    print(f"{checker.passed} passed, {len(checker.failures)} failed")
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main())
