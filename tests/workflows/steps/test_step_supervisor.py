"""Step processes under their supervisor, with real processes and real signals: they die with the
worker that started them, leave evidence of how they ended, and cannot read the worker's secrets."""

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.workflows.steps.helpers import make_ctx, pid_alive, wait_until
from workflows.steps.base import StepUser
from workflows.steps.isolation import hand_over, private_dir, resolve_step_user
from workflows.steps.script import ScriptStep

ROOT = Path(__file__).resolve().parents[3]
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or "python3"

# A stand-in for a worker: runs one script step through run_process in this repository's code, no
# Django, and prints its pid first so the test can kill it mid-step.
WORKER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from workflows.steps.base import StepContext, StepUser
    from workflows.steps.script import ScriptStep
    run_as = StepUser(int(sys.argv[3]), int(sys.argv[4]), "step") if len(sys.argv) > 3 else None
    print(os.getpid(), flush=True)
    ctx = StepContext(
        execution_id="wf-crash", app_name="demo", step_name="effect", step_type="script",
        config={"script": sys.argv[2]}, workdir=Path(sys.argv[1]), attempt=1, step_id=7, run_as=run_as,
        log=lambda message, stream="stdout": print(stream, message, flush=True),
    )
    result = ScriptStep().run(ctx)
    print("result", result.status, flush=True)
    """
)


def start_worker(workdir: Path, script: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SECRET_KEY": "worker-secret-key-0123456789", "DB_PASSWORD": "worker-db-password"}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(workdir), script, *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_kill_9_of_the_worker_ends_the_steps_whole_process_tree_and_its_side_effect_never_runs(
    tmp_path: Path,
) -> None:
    effect = tmp_path / "effect"
    script = (
        f"echo $$ > {tmp_path}/shell.pid\n"
        f"sleep 300 & echo $! > {tmp_path}/background.pid\n"
        f"(setsid sleep 300 & echo $! > {tmp_path}/escaped.pid)\n"
        f"sleep 3\necho ran >> {effect}\n"
    )
    worker = start_worker(tmp_path, script)
    try:
        assert worker.stdout is not None
        worker.stdout.readline()
        assert wait_until(lambda: (tmp_path / "escaped.pid").exists(), timeout=10)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        pids = {
            name: int((tmp_path / f"{name}.pid").read_text()) for name in ("shell", "background", "escaped")
        }
        for name, pid in pids.items():
            assert wait_until(lambda pid=pid: not pid_alive(pid), timeout=8), f"{name} process survived"
        time.sleep(3.5)  # past the moment the script would have written its side effect
        assert not effect.exists()
        # No evidence of a completed run: the supervisor stopped the command, it did not end on its own.
        assert not list(tmp_path.glob(".innominatus/runs/effect/attempt-*.json"))
    finally:
        if worker.poll() is None:
            worker.kill()


def test_a_command_that_ended_on_its_own_leaves_its_exit_code_for_the_reaper(tmp_path: Path) -> None:
    ctx = make_ctx(
        tmp_path, {"script": 'echo "answer=42" >> "$INNOMINATUS_OUTPUT"\necho done'}, step_name="effect"
    )
    assert ScriptStep().run(ctx).status == "completed"
    recorded = json.loads((tmp_path / ".innominatus/runs/effect/attempt-1.json").read_text())
    assert recorded["exit"] == 0
    evidence = ScriptStep().evidence(tmp_path, "effect", 1)
    assert evidence is not None and evidence.status == "completed"
    assert evidence.outputs == {"answer": "42"}
    assert ScriptStep().evidence(tmp_path, "effect", 2) is None
    failing = make_ctx(tmp_path, {"script": "exit 3"}, step_name="broken")
    ScriptStep().run(failing)
    broken = ScriptStep().evidence(tmp_path, "broken", 1)
    assert broken is not None and broken.status == "failed" and "exited with code 3" in broken.error


def test_scripts_get_idempotency_keys_stable_across_attempts(tmp_path: Path) -> None:
    script = 'env | grep ^INNOMINATUS_ | sort >> "$INNOMINATUS_OUTPUT"'
    keys = []
    for attempt in (1, 2):
        ctx = make_ctx(tmp_path, {"script": script})
        ctx.attempt, ctx.step_id = attempt, 41
        keys.append(ScriptStep().run(ctx).outputs)
    assert keys[0]["INNOMINATUS_STEP_ID"] == "41"
    assert keys[0]["INNOMINATUS_EXECUTION_ID"] == "wf-test1234"
    assert (
        keys[0]["INNOMINATUS_IDEMPOTENCY_KEY"] == keys[1]["INNOMINATUS_IDEMPOTENCY_KEY"] == "wf-test1234/41"
    )
    assert keys[0]["INNOMINATUS_ATTEMPT_ID"] == "wf-test1234/41/1"
    assert keys[1]["INNOMINATUS_ATTEMPT_ID"] == "wf-test1234/41/2"


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="switching the step user needs root")


@root_only
def test_a_step_run_as_the_step_user_cannot_read_the_workers_environment_memory_or_files(
    tmp_path: Path,
) -> None:
    nobody = pwd.getpwnam("nobody")
    # The worker's own files live outside the work directory the step user is given.
    secret_file = tmp_path / "kubeconfig"
    work = tmp_path / "work"
    work.mkdir()
    secret_file.write_text("token: kube-secret-token\n")
    secret_file.chmod(0o600)
    script = textwrap.dedent(
        f"""
        id -u > {work}/uid
        worker=$(awk '/^PPid:/ {{print $2}}' /proc/$PPID/status)
        cat /proc/$PPID/environ > {work}/supervisor-env 2>&1 || true
        cat /proc/$worker/environ > {work}/worker-env 2> {work}/worker-env.err || true
        head -c 64 /proc/$worker/mem > {work}/worker-mem 2> {work}/worker-mem.err || true
        cat {secret_file} > {work}/kube 2> {work}/kube.err || true
        env > {work}/own-env
        """
    )
    worker = start_worker(work, script, str(nobody.pw_uid), str(nobody.pw_gid))
    out, _ = worker.communicate(timeout=30)
    assert "result completed" in out, out
    assert (work / "uid").read_text().strip() == str(nobody.pw_uid)
    gathered = "".join(
        (work / name).read_text(errors="replace")
        for name in ("supervisor-env", "worker-env", "worker-mem", "kube", "own-env")
    )
    for secret in ("worker-secret-key-0123456789", "worker-db-password", "kube-secret-token"):
        assert secret not in gathered
    # Denied, not merely empty: each attempt was made and refused.
    for name in ("worker-env.err", "worker-mem.err", "kube.err"):
        assert "Permission denied" in (work / name).read_text(), name


@root_only
def test_a_non_dumpable_process_keeps_its_environment_from_processes_of_the_same_user(tmp_path: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    holder = (
        "import sys, time\n"
        "if sys.argv[1] == 'protect':\n"
        "    from workflows.steps.isolation import protect_worker_process\n"
        "    assert protect_worker_process()\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    results = {}
    for mode in ("protect", "plain"):
        # The system interpreter: the step user may not enter the test's own virtualenv.
        process = subprocess.Popen(
            [SYSTEM_PYTHON, "-c", holder, mode],
            cwd=ROOT,
            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "SECRET_KEY": "same-user-secret"},
            stdout=subprocess.PIPE,
            text=True,
            user=nobody.pw_uid,
            group=nobody.pw_gid,
            extra_groups=[],
        )
        try:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
            reader = subprocess.run(
                ["cat", f"/proc/{process.pid}/environ"],
                capture_output=True,
                user=nobody.pw_uid,
                group=nobody.pw_gid,
                extra_groups=[],
                check=False,
            )
            results[mode] = reader.stdout
        finally:
            process.kill()
            process.wait()
    assert b"same-user-secret" in results["plain"]  # the control: the same user reads a dumpable process
    assert b"same-user-secret" not in results["protect"]


def test_step_user_setting() -> None:
    if os.geteuid() == 0:
        user = resolve_step_user("")
        assert user is not None and user.name == "nobody"
        with pytest.raises(ValueError, match="must not be root"):
            resolve_step_user("root")
    else:
        assert resolve_step_user("") is None
        with pytest.raises(ValueError, match="only a worker running as root"):
            resolve_step_user("nobody")
    with pytest.raises(ValueError, match="no such user"):
        resolve_step_user("no-such-user-anywhere")


@root_only
def test_hand_over_gives_the_step_user_its_tree_but_not_the_engines_directories(tmp_path: Path) -> None:
    user = StepUser(uid=65534, gid=65534, name="nobody")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.tf").write_text("")
    engine = private_dir(tmp_path / ".innominatus")
    meta = private_dir(engine / "step")
    (meta / "outputs").write_text("")
    runs = private_dir(private_dir(engine / "runs", 0o700) / "step", 0o700)
    (runs / "attempt-1.json").write_text("{}")
    hand_over(tmp_path, user)
    owner = {
        path: path.stat().st_uid
        for path in (tmp_path / "src", tmp_path / "src/main.tf", meta, meta / "outputs")
    }
    assert owner[tmp_path / "src"] == owner[tmp_path / "src/main.tf"] == owner[meta / "outputs"] == 65534
    assert owner[meta] == 0 and engine.stat().st_uid == 0
    assert (runs / "attempt-1.json").stat().st_uid == 0
    # A symlink planted in place of an engine directory is replaced, never followed.
    (tmp_path / "elsewhere").mkdir()
    meta.rename(tmp_path / "moved")
    meta.symlink_to(tmp_path / "elsewhere")
    assert not private_dir(meta).is_symlink()
