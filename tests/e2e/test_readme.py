"""The README runs as written (issue 14): its shell blocks, in order, in one bash session, against a real
stack seeded with the demo county as `make up` seeds it.

What differs from a newcomer's machine, and only that: the processes listen on free ports (the blocks'
`localhost:8001` / `:8002` are pointed at them), the working directory is a scratch one holding links to the
checkout's `.venv` and `docs/` and a `var/admin.key`, and the `MANYI_*` variables name the test databases.
The first block (`make up`, `make test`) is what runs this very suite, so it is not run again.

Every `curl` must succeed (`--fail-with-body`: an HTTP error fails the block); a line whose comment starts
with a status (`# 404: …`, `# 202 {…}`, `# 304 while …`) must answer exactly that status.
"""
import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from manyi.demo import seed
from shared.domain import period_of, utcnow
from tests.api import ok
from tests.e2e.conftest import running_system
from tests.harness import DeliveryWorker, free_port, poll

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
STATUS_COMMENT = re.compile(r"^(curl .*?)\s+#\s*(\d{3})\b")
PRELUDE = r"""
set -euo pipefail
curl() { command curl --fail-with-body "$@"; }
expect_status() {  # expect_status 404 curl …: the request answers exactly that status
  local want=$1; shift; shift
  local got; got=$(command curl "$@" -o /dev/null -w '%{http_code}')
  [ "$got" = "$want" ] || { echo "README: expected $want, got $got: curl $*" >&2; return 1; }
}
"""


def readme_blocks():
    """(language, text) of every fenced block of the README, in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer((ROOT / "README.md").read_text())]


def as_script(blocks, survey_port, gateway_port, hook_port):
    """The README's shell blocks as one script: ports pointed at the test stack, status comments checked."""
    lines = []
    for language, text in blocks:
        if language != "sh" or "make up" in text:
            continue
        for line in text.splitlines():
            line = (line.replace("localhost:8001", f"127.0.0.1:{survey_port}")
                    .replace("127.0.0.1:8001", f"127.0.0.1:{survey_port}")
                    .replace("localhost:8002", f"127.0.0.1:{gateway_port}")
                    .replace("127.0.0.1:9000", f"127.0.0.1:{hook_port}"))
            expected = STATUS_COMMENT.match(line)
            if expected and not line.rstrip().endswith("\\"):
                line = f"expect_status {expected.group(2)} {expected.group(1)}"
            lines.append(line)
    return PRELUDE + "\n".join(lines) + "\n"


def receiver_source(blocks, hook_port):
    """The README's webhook receiver (its only Python block), listening where the test can bind."""
    source = next(text for language, text in blocks if language == "python")
    return source.replace('("127.0.0.1", 9000)', f'("127.0.0.1", {hook_port})')


def poll_quietly(check, timeout):
    try:
        return poll(check, timeout, 0.2, "")
    except AssertionError:
        return False


def delivery_log(delivery):
    return "".join(p.read_text(errors="replace")[-3000:] for p in Path(delivery.log_dir).glob("*.log"))


def test_every_shell_block_of_the_readme_runs_as_written(mongo_server, tmp_path):
    with running_system(mongo_server, MANYI_WEBHOOK_ALLOW_PRIVATE="1") as (config, procs, api, gw):
        delivery = DeliveryWorker({k: v for k, v in procs.env.items() if k.startswith("MANYI_")}).start()
        try:
            admin, now = config.admin_key, period_of(utcnow())
            seed(procs.survey_url, admin, out=lambda line: None)
            poll(lambda: any(d["n"] for d in ok(gw("GET", f"/api/v1/indices?period={now}", admin), 200)["departments"]),
                 60, 0.2, "the demo county's figures")
            (tmp_path / "var").mkdir()
            (tmp_path / "var" / "admin.key").write_text(admin)
            for name in (".venv", "docs"):
                (tmp_path / name).symlink_to(ROOT / name)
            blocks, hook_port = readme_blocks(), free_port()
            (tmp_path / "receiver.py").write_text(receiver_source(blocks, hook_port))
            script = as_script(blocks, procs.survey_port, procs.gateway_port, hook_port)
            (tmp_path / "readme.sh").write_text(script)
            env = {k: v for k, v in procs.env.items() if k != "MANYI_PUBLIC_URL"}
            out, err = tmp_path / "readme.out", tmp_path / "readme.err"
            # Files, not pipes: the receiver the README starts in the background keeps its output open. Its own
            # session: the receiver dies with it.
            with out.open("w") as stdout, err.open("w") as stderr:
                run = subprocess.Popen(["bash", "readme.sh"], cwd=tmp_path, env=env, stdout=stdout, stderr=stderr,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                run.wait(timeout=600)
                assert run.returncode == 0, \
                    f"README failed ({run.returncode}):\n{err.read_text()[-4000:]}\n{out.read_text()[-2000:]}"
                # the receiver checked the signature of the README's ping (delivered asynchronously)
                if not poll_quietly(lambda: "ping verified" in out.read_text(), 30):
                    raise AssertionError(f"no 'ping verified' from the README's receiver:\n{out.read_text()[-3000:]}\n"
                                         f"{err.read_text()[-3000:]}\n{delivery_log(delivery)}")
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(run.pid, signal.SIGTERM)
            for made in ("report.xlsx", "问题台账.xlsx", "企业导入模板.xlsx", "qr.png", "邀请卡.pdf", "未答名单.xlsx"):
                assert (tmp_path / made).stat().st_size > 100, made
            assert (tmp_path / "qr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert (tmp_path / "邀请卡.pdf").read_bytes()[:5] == b"%PDF-"
        finally:
            delivery.stop()


def test_a_status_comment_is_checked_and_a_failing_curl_fails_the_block(tmp_path):
    """The harness itself: what makes the README test able to fail."""
    blocks = [("sh", "make up\n"), ("sh", "curl -s http://127.0.0.1:1/ # 404 nothing listens\n")]
    script = as_script(blocks, 1, 2, 3)
    assert "make up" not in script and "expect_status 404 curl -s http://127.0.0.1:1/" in script
    (tmp_path / "a.sh").write_text(script)
    assert subprocess.run(["bash", "a.sh"], cwd=tmp_path, capture_output=True).returncode != 0
    (tmp_path / "b.sh").write_text(as_script([("sh", "curl -s http://127.0.0.1:1/\n")], 1, 2, 3))
    assert subprocess.run(["bash", "b.sh"], cwd=tmp_path, capture_output=True).returncode != 0
