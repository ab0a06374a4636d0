"""The README's curl examples and the answers it shows under them, which are the real output of the bundled
model (float32, on the CPU), with numbers shown to 4 significant digits.

    python -m tests.readme_examples --write     # run every example and write its answer into README.md

``tests/test_readme_examples.py`` runs the examples in order against one app (an adapter made by one is used
by the next) and checks each answer against what the README shows: the same fields, lengths and texts,
numbers within 1%, except the fields that change from run to run (ids, times). ``JOB_ID`` in an example's URL
stands for the job the last ``POST /api/v1/adapters`` started; such an example runs once that job has ended.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"```bash\n(curl .+?)\n```(\n\n```json\n(.*?)\n```)?", re.S)
SERVER = "http://127.0.0.1:8000"
# Fields that change from run to run: the package version, ids and times.
VOLATILE = {"version", "id", "job", "created", "started", "finished", "elapsed_s", "eta_s", "train_seconds"}


def app_config() -> dict:
    """The bundled model in float32 on the CPU, with a data folder of its own."""
    return {"MODEL": "bundled", "DEVICE": "cpu", "DTYPE": "float32", "DATA_DIR": tempfile.mkdtemp()}


@dataclass
class Example:
    """One curl command of the README and the answer shown under it (None when none is shown)."""

    method: str
    path: str
    body: Any
    shown: str | None
    span: tuple[int, int]  # where the shown answer sits in the README (or where it would go)


def examples(readme: str) -> list[Example]:
    """Every ```bash block that is a curl command, with the ```json block right under it if any."""
    found = []
    for match in BLOCK.finditer(readme):
        words = shlex.split(match.group(1).replace("\\\n", " "))
        method, body, url = "GET", None, None
        for k, word in enumerate(words):
            if word == "-X":
                method = words[k + 1]
            elif word == "-d":
                method, body = ("POST" if method == "GET" else method), json.loads(words[k + 1])
            elif word.startswith(SERVER):
                url = word[len(SERVER) :]
        assert url is not None, f"no {SERVER} URL in: {match.group(1)}"
        span = match.span(3) if match.group(2) else (match.end(1) + 4, match.end(1) + 4)
        found.append(Example(method, url, body, match.group(3), span))
    return found


class Session:
    """Runs the examples in order against one app, as a reader pasting them one after another would."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.job: str | None = None

    def call(self, example: Example) -> tuple[int, Any]:
        """Send an example; its status and JSON answer (None without a body)."""
        path = example.path
        if "JOB_ID" in path:
            assert self.job is not None, "an example polls JOB_ID before any POST /api/v1/adapters"
            path = path.replace("JOB_ID", self.job)
            deadline = time.monotonic() + 600
            while self.client.get(path).get_json()["state"] in ("queued", "running"):
                assert time.monotonic() < deadline, "the README's training job did not end"
                time.sleep(0.5)
        response = self.client.open(path, method=example.method, json=example.body)
        answer = response.get_json(silent=True)
        if example.path == "/api/v1/adapters" and example.method == "POST" and response.status_code == 202:
            self.job = answer["id"]
        return response.status_code, answer


def rounded(value: Any) -> Any:
    """Numbers to 4 significant digits (integers as they are), recursively."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    return [rounded(item) for item in value]


def show(answer: Any) -> str:
    """An answer as the README shows it: compact, one line per field of an object, one per object of a list."""

    def write(value: Any, indent: str) -> str:
        if isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values()):
            inner = indent + " "
            items = [f"{json.dumps(k)}: {write(v, inner)}" for k, v in value.items()]
            return "{" + f",\n{inner}".join(items) + "}"
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            inner = indent + " "
            return "[" + f",\n{inner}".join(write(v, inner) for v in value) + "]"
        return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)

    return write(rounded(answer), "")


def differences(shown: Any, real: Any, where: str = "answer") -> list[str]:
    """Where ``real`` departs from what the README shows: fields, lengths, texts, flags, or numbers by over 1%."""
    if isinstance(shown, dict):
        if not isinstance(real, dict) or list(shown) != list(real):
            return [f"{where}: the README shows fields {list(shown)}, the answer has {list(real or {})}"]
        return [d for key in shown for d in differences(shown[key], real[key], f"{where}.{key}")]
    if isinstance(shown, list):
        if not isinstance(real, list) or len(shown) != len(real):
            return [f"{where}: the README shows {len(shown)} items, the answer has {real!r:.80}"]
        return [d for k, (s, r) in enumerate(zip(shown, real, strict=True)) for d in differences(s, r, f"{where}[{k}]")]
    if where.rsplit(".", 1)[-1] in VOLATILE and not where.endswith("model.id"):  # a model's id is no job id
        return [] if type(shown) is type(real) or None in (shown, real) else [f"{where}: {real!r} is not {shown!r}"]
    if isinstance(shown, bool) or shown is None or isinstance(shown, str):
        return [] if shown == real else [f"{where}: the README shows {shown!r}, the answer has {real!r}"]
    if isinstance(real, bool) or not isinstance(real, int | float):
        return [f"{where}: the README shows the number {shown}, the answer has {real!r}"]
    close = abs(real - shown) <= 0.01 * max(abs(real), abs(shown)) + 1e-9
    return [] if close else [f"{where}: the README shows {shown}, the answer has {real}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the real answers into README.md")
    args = parser.parse_args()
    from chronos_excel import create_app

    session = Session(create_app(app_config()).test_client())
    readme = README.read_text()
    edits = []
    for example in examples(readme):
        status, answer = session.call(example)
        assert status < 300, (example.path, status, answer)
        text = show(answer)
        print(f"{example.method} {example.path}: {status}\n{text}\n")
        if example.shown is not None:
            edits.append((example.span, text))
    if args.write:
        for (start, end), text in sorted(edits, reverse=True):
            readme = readme[:start] + text + readme[end:]
        README.write_text(readme)


if __name__ == "__main__":
    main()
