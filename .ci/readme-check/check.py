#!/usr/bin/env python3
"""Runs every snippet of README.md and of the guides in docs/ against a freshly started
freightgate, so the documentation cannot rot.

    check.py README BIN NODE_DIR PG_URL [DOC ...]

Each document's sh blocks run in a shell of their own (README first), in one working
directory against one server; a guide sets up its own $FG and $KEY.

- Every ```sh block runs, in order, in one bash process whose working directory is a
  fresh directory holding links to the repository's `tests/`, `tools/` and `rules/`
  (so the default `sqlite://freightgate.db` is a new database), unless the line before
  it is `<!-- readme-check: skip (reason) -->`. A block must exit 0.
- A ```json or ```text block that directly follows an sh block in the same section
  (only prose between) is that block's expected output; any other json or text
  block must be marked skip with its reason. JSON: the output holds as
  many JSON values, and each matches: objects need the keys shown (others may
  follow), arrays need the elements shown and the same length unless the last shown
  element is "…", the string "…" matches anything and "abc…" any string starting
  with "abc". Text: every line shown matches its own output line, in any order, "…"
  matching anything.
- The ```python, ```js, ```go and ```rust blocks (signature verification) run against
  a real push, each inside a harness (Node: CommonJS when the snippet uses `require`,
  an ES module otherwise; Go: `go/` beside this file; Rust: the `rust/` crate, pinned
  by its Cargo.lock); a tampered body must fail.
- A ```toml block with `[[rule]]` must pass `freightgate rules check`, one with
  `[[source]]` `freightgate sources check`, one with `[[target]]`
  `freightgate outbound check`; any other ```toml block is a
  configuration file and must load (`--config FILE rules check`).

Before running, the snippets' addresses are pointed at this run: the line
`FG=http://127.0.0.1:8080` gets the server's port, `127.0.0.1:9000` / `--port 9000`
(the tour's receiver) a free port, `export DATABASE_URL=postgres://…` a fresh
PostgreSQL database at PG_URL's server, and `cargo run --release -q --` or a
`freightgate` at the start of a line the built binary BIN.
"""

import json
import os
import shutil
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ELLIPSIS = "…"
# Fenced languages of the signature-verification snippets (see run_verifiers).
VERIFIER_LANGS = ("python", "js", "go", "rust")
SKIP = re.compile(r"^\s*<!-- readme-check: skip \((.+)\) -->$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def blocks(readme: str):
    """(lang, text, line, section, skip_reason, follows_sh) for every fenced block."""
    out, section, lines = [], "", readme.split("\n")
    i, prev_sh_section = 0, None
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section, prev_sh_section = line[3:], None
        fence = line.lstrip()
        if fence.startswith("```") and len(fence) > 3:
            # Fences inside list items are indented; their lines carry the same indent.
            indent, lang, start = len(line) - len(fence), fence[3:].strip(), i
            i += 1
            body = []
            while not lines[i].lstrip().startswith("```"):
                body.append(lines[i][indent:])
                i += 1
            before = lines[start - 1] if start else ""
            skip = SKIP.match(before)
            follows = prev_sh_section == section
            out.append((lang, "\n".join(body) + "\n", start + 1, section, skip.group(1) if skip else None, follows))
            prev_sh_section = section if lang == "sh" and not skip else None
        i += 1
    return out


def matches(expected, actual, where="$"):
    """Returns None when `actual` matches `expected`, else where and why not."""
    if expected == ELLIPSIS:
        return None
    if isinstance(expected, str) and expected.endswith(ELLIPSIS):
        if isinstance(actual, str) and actual.startswith(expected[:-1]):
            return None
        return f"{where}: expected a string starting {expected[:-1]!r}, got {actual!r}"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            if key not in actual:
                return f"{where}: no key {key!r} in {json.dumps(actual)[:300]}"
            problem = matches(value, actual[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{where}: expected an array, got {actual!r}"
        open_ended = bool(expected) and expected[-1] == ELLIPSIS
        shown = expected[:-1] if open_ended else expected
        if (len(actual) < len(shown)) if open_ended else (len(actual) != len(shown)):
            return f"{where}: expected {len(shown)}{'+' if open_ended else ''} elements, got {len(actual)}"
        for n, value in enumerate(shown):
            problem = matches(value, actual[n], f"{where}[{n}]")
            if problem:
                return problem
        return None
    if isinstance(expected, float) or isinstance(actual, float):
        ok = isinstance(actual, (int, float)) and not isinstance(actual, bool) and float(expected) == float(actual)
    else:
        ok = expected == actual and type(expected) is type(actual)
    return None if ok else f"{where}: expected {expected!r}, got {actual!r}"


def json_values(text: str):
    decoder, values, i = json.JSONDecoder(), [], 0
    text = text.strip()
    while i < len(text):
        value, end = decoder.raw_decode(text, i)
        values.append(value)
        i = end
        while i < len(text) and text[i].isspace():
            i += 1
    return values


def check_output(lang, expected, actual):
    if lang == "json":
        try:
            got = json_values(actual)
        except ValueError as e:
            return f"the output is not JSON ({e}): {actual[:500]}"
        want = json_values(expected)
        if len(got) != len(want):
            return f"expected {len(want)} JSON value(s), got {len(got)}: {actual[:500]}"
        for n, (w, g) in enumerate(zip(want, got)):
            problem = matches(w, g)
            if problem:
                return f"value {n}: {problem}"
        return None
    remaining = actual.splitlines()
    for line in expected.strip().splitlines():
        pattern = re.compile("^" + ".*".join(map(re.escape, line.split(ELLIPSIS))) + "$")
        hit = next((n for n, got in enumerate(remaining) if pattern.match(got)), None)
        if hit is None:
            return f"no output line matches {line!r} in:\n{actual}"
        remaining.pop(hit)
    return None


def substitute(text, bin_path, port, receiver_port, pg_url):
    text = re.sub(r"^FG=http://127\.0\.0\.1:8080$", f"FG=http://127.0.0.1:{port}", text, flags=re.M)
    text = text.replace("127.0.0.1:9000", f"127.0.0.1:{receiver_port}")
    text = text.replace("--port 9000", f"--port {receiver_port}")
    text = re.sub(r"^export DATABASE_URL=postgres://\S+$", f"export DATABASE_URL={pg_url}", text, flags=re.M)
    text = text.replace("cargo run --release -q --", bin_path)
    return re.sub(r"^freightgate ", bin_path + " ", text, flags=re.M)


def wait_healthy(url, proc, log):
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"FAIL: the server exited during start-up:\n{Path(log).read_text()}")
            time.sleep(0.1)
    sys.exit("FAIL: the server did not become healthy")


def api(base, key, method, path, body=None, ctype="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", ctype)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def capture_push(work, bin_path, base, repo):
    """Registers a receiver that logs raw pushes, causes one push; returns (secret, push)."""
    port = free_port()
    log = work / "captured.jsonl"
    receiver = subprocess.Popen([sys.executable, str(repo / "tools/webhook_receiver.py"), "--port", str(port), "--log", str(log)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        key = subprocess.run([bin_path, "keys", "create", "--business", "northwind"], cwd=work, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        endpoint = api(base, key, "POST", "/v1/webhooks/endpoints",
                       {"url": f"http://127.0.0.1:{port}/hooks", "event_types": ["shipment.created"]})
        feed = (repo / "tests/feeds/wms-shipment-with-orders.json").read_text()
        feed = feed.replace("NW-SHP-240611-0042", "NW-SHP-README-CHECK").replace("SO-77812", "SO-README-CHECK-")
        api(base, key, "POST", "/v1/ingest", feed.encode())
        for _ in range(100):
            if log.exists() and log.read_text().strip():
                return endpoint["secret"], json.loads(log.read_text().splitlines()[0])
            time.sleep(0.1)
        sys.exit("FAIL: no push reached the capturing receiver")
    finally:
        receiver.terminate()
        receiver.wait()


PY_HARNESS = """
import json, sys
push = json.load(open(sys.argv[1]))
raw, headers = push["body"].encode(), {k.lower(): v for k, v in push["headers"].items()}
event = handle(raw, headers)
assert event["type"] == "shipment.created", event
try:
    handle(raw + b" ", headers)
except Exception:
    print("python snippet: verified a real push and refused a tampered one")
else:
    sys.exit("the tampered body verified")
"""

JS_HARNESS_BEFORE = {
    "esm": 'import { readFileSync } from "node:fs";\n',
    "cjs": 'const { readFileSync } = require("node:fs");\n',
}
JS_HARNESS_READ = """
const push = JSON.parse(readFileSync(process.argv[2], "utf8"));
const req = { headers: Object.fromEntries(Object.entries(push.headers).map(([k, v]) => [k.toLowerCase(), v])) };
let rawBody = push.body;
"""

JS_HARNESS_AFTER = """
if (event.type !== "shipment.created") { console.error("unexpected event", event); process.exit(1); }
let tamperedVerified = true;
try { hook.verify(rawBody + " ", req.headers); } catch { tamperedVerified = false; }
if (tamperedVerified) { console.error("the tampered body verified"); process.exit(1); }
console.log("node snippet (%s): verified a real push and refused a tampered one", FLAVOUR);
"""


def verifier_command(lang, code, work, node_dir, python, push_file):
    """Writes a snippet with its harness; returns (name, command, files to remove)."""
    here = Path(__file__).resolve().parent
    if lang == "python":
        script = work / "verify_snippet.py"
        script.write_text(code + PY_HARNESS)
        return "python", [python, str(script), str(push_file)], []
    if lang == "js":
        # The import style decides the file type, as it does in a user's project:
        # `require` runs as CommonJS (.cjs), `import` as an ES module (.mjs).
        flavour = "cjs" if "require(" in code else "esm"
        # Inside NODE_DIR so that the `standardwebhooks` package resolves.
        script = Path(node_dir) / f"verify-snippet-{os.getpid()}.{'cjs' if flavour == 'cjs' else 'mjs'}"
        # ES module imports are hoisted, so the harness may read the push first.
        script.write_text(JS_HARNESS_BEFORE[flavour] + JS_HARNESS_READ + code
                          + f"\nconst FLAVOUR = {json.dumps(flavour)};" + JS_HARNESS_AFTER)
        return f"node {flavour}", ["node", str(script), str(push_file)], [script]
    if lang == "go":
        project = work / "go-verify"
        shutil.copytree(here / "go", project)
        (project / "snippet.go").write_text(code)
        # The harness is the module's main; its build cache stays in the work directory.
        return "go", ["env", f"GOCACHE={work / 'go-cache'}", "sh", "-c", 'cd "$0" && exec go run . "$1"',
                      str(project), str(push_file)], []
    project = work / "rust-verify"
    shutil.copytree(here / "rust", project)
    (project / "src" / "snippet.rs").write_text(code)
    target = Path(os.environ.get("CARGO_TARGET_DIR", here.parent.parent / "target")).resolve() / "readme-rust"
    return "rust", ["cargo", "run", "-q", "--locked", "--manifest-path", str(project / "Cargo.toml"),
                    "--target-dir", str(target), "--", str(push_file)], []


def run_verifiers(snippets, secret, push, work, node_dir, python):
    push_file = work / "push.json"
    push_file.write_text(json.dumps(push))
    ran = []
    for lang, text, where in snippets:
        code = text.replace('"whsec_..."', json.dumps(secret))
        if code == text:
            sys.exit(f"FAIL: {where}: the {lang} snippet has no \"whsec_...\" to fill in")
        name, command, temporary = verifier_command(lang, code, work, node_dir, python, push_file)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        finally:
            for path in temporary:
                path.unlink()
        print(result.stdout.strip())
        if result.returncode != 0:
            sys.exit(f"FAIL: {where}: the {name} snippet failed:\n{result.stdout}{result.stderr}")
        ran.append(name)
    return ran


def check_toml(snippets, bin_path, work, repo):
    for n, (text, where) in enumerate(snippets):
        if "[[rule]]" in text:
            rules = work / f"rules-snippet-{n}"
            rules.mkdir()
            (rules / "snippet.toml").write_text(text)
            command = [bin_path, "rules", "check", str(rules)]
        elif "[[source]]" in text:
            sources = work / f"sources-snippet-{n}"
            sources.mkdir()
            (sources / "snippet.toml").write_text(text)
            command = [bin_path, "sources", "check", str(sources)]
        elif "[[target]]" in text:
            outbound = work / f"outbound-snippet-{n}"
            outbound.mkdir()
            (outbound / "snippet.toml").write_text(text)
            command = [bin_path, "outbound", "check", str(outbound)]
        else:
            config = work / f"config-snippet-{n}.toml"
            config.write_text(text)
            command = [bin_path, "--config", str(config), "rules", "check", str(repo / "rules")]
        result = subprocess.run(command, capture_output=True, text=True, cwd=work, timeout=60)
        if result.returncode != 0:
            sys.exit(f"FAIL: {where}: the toml snippet does not pass {' '.join(command[1:])}:\n"
                     f"{result.stdout}{result.stderr}")
        print(f"{where}: toml snippet passes `freightgate {' '.join(command[1:-1])}`")


def run_shell(steps, work, env, doc):
    script, marks = [], []
    for n, (text, _, _) in enumerate(steps):
        script.append(f"echo '@@step {n}@@'\n{{\n{text}}}\necho\necho \"@@end {n} $?@@\"\n")
    proc = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        sys.exit(f"FAIL: the commands of {doc} did not finish in 180 s\n{out}\n{err}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # background jobs a snippet left running
        except ProcessLookupError:
            pass
    return out, err


def collect(doc_path, all_blocks):
    """A document's shell steps (text, where, expected output), verification snippets
    and TOML snippets; exits on a json/text block that is no command's output."""
    steps, verifiers, tomls = [], [], []
    for n, (lang, text, line, section, skip, follows) in enumerate(all_blocks):
        where = f"{doc_path}:{line}"
        if lang == "sh":
            if skip:
                print(f"{where}: skipped ({skip})")
                continue
            nxt = all_blocks[n + 1] if n + 1 < len(all_blocks) else None
            expected = (nxt[0], nxt[1]) if nxt and nxt[0] in ("json", "text") and nxt[5] else None
            steps.append((text, where, expected))
        elif lang in ("json", "text"):
            # An example answer must be the shown output of the command above it.
            if not follows and not skip:
                sys.exit(f"FAIL: {where}: a {lang} block that is no command's output; show the command "
                         "before it, or mark it <!-- readme-check: skip (reason) -->")
            if skip:
                print(f"{where}: skipped ({skip})")
        elif lang in VERIFIER_LANGS:
            verifiers.append((lang, text, where))
        elif lang == "toml":
            tomls.append((text, where))
    return steps, verifiers, tomls


def check_steps(steps, out, failures, subst):
    """Compares one shell's marked output with each step's expectation."""
    for n, (text, where, expected) in enumerate(steps):
        found = re.search(rf"@@step {n}@@\n(.*?)\n@@end {n} (\d+)@@", out, re.S)
        if not found:
            failures.append(f"{where}: the block did not run to its end\n{text}")
            return
        output, status = found.group(1), int(found.group(2))
        if status != 0:
            failures.append(f"{where}: exit status {status}\n{text}--- output:\n{output}")
            continue
        if expected:
            problem = check_output(expected[0], subst(expected[1]), output)
            if problem:
                failures.append(f"{where}: the output differs from the document: {problem}\n{text}")
                continue
        print(f"{where}: ok{' (output as shown)' if expected else ''}")


def main():
    readme_path, bin_path, node_dir, pg_url = sys.argv[1:5]
    docs = [readme_path] + sys.argv[5:]
    python = os.environ.get("STANDARDWEBHOOKS_PYTHON", sys.executable)
    repo = Path(readme_path).resolve().parent

    # Every document's commands run in a shell of their own, in order, against one
    # server and one working directory: a guide sets up its own $FG and $KEY.
    runs, verifiers, tomls = [], [], []
    for doc in docs:
        steps, doc_verifiers, doc_tomls = collect(doc, blocks(Path(doc).read_text()))
        if not steps:
            sys.exit(f"FAIL: no sh blocks found in {doc}")
        runs.append((doc, steps))
        verifiers += doc_verifiers
        tomls += doc_tomls

    work = Path(tempfile.mkdtemp(prefix="readme-check-"))
    for name in ("tests", "tools", "rules"):
        (work / name).symlink_to(repo / name)
    port, receiver_port = free_port(), free_port()
    pg_db = f"fg_readme_{os.getpid()}"
    pg_admin = pg_url
    pg_test = pg_url.rsplit("/", 1)[0] + "/" + pg_db
    subprocess.run(["psql", "-q", pg_admin, "-c", f"CREATE DATABASE {pg_db}"], check=True)

    env = {k: v for k, v in os.environ.items() if not k.startswith("FREIGHTGATE_") and k != "DATABASE_URL"}
    server_env = dict(env, FREIGHTGATE_LISTEN=f"127.0.0.1:{port}", FREIGHTGATE_WEBHOOKS_ALLOW_NETWORKS="127.0.0.0/8",
                      FREIGHTGATE_LOG="warn")
    server_log = work / "server.log"
    server = subprocess.Popen([bin_path, "serve"], cwd=work, env=server_env, stdout=open(server_log, "w"),
                              stderr=subprocess.STDOUT)
    failures, counted = [], 0

    def subst(text):
        return substitute(text, bin_path, port, receiver_port, pg_test)

    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, server, server_log)
        for doc, steps in runs:
            steps = [(subst(t), where, exp) for t, where, exp in steps]
            counted += len(steps)
            out, err = run_shell(steps, work, env, doc)
            before = len(failures)
            check_steps(steps, out, failures, subst)
            if len(failures) > before and err.strip():
                failures.append(f"stderr of {doc}'s commands:\n" + err[-3000:])
        if not failures:
            secret, push = capture_push(work, bin_path, base, repo)
            run_verifiers(verifiers, secret, push, work, node_dir, python)
            check_toml(tomls, bin_path, work, repo)
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["psql", "-q", pg_admin, "-c", f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)"], check=False)
    if failures:
        print("\n\n".join(failures), file=sys.stderr)
        print(f"server log:\n{server_log.read_text()[-3000:]}", file=sys.stderr)
        sys.exit(1)
    subprocess.run(["rm", "-rf", str(work)], check=False)
    print(f"{', '.join(docs)}: {counted} command blocks, {len(verifiers)} verification snippets and "
          f"{len(tomls)} toml snippets checked")


if __name__ == "__main__":
    main()
