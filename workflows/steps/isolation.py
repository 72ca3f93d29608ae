"""Keeping a worker's secrets from its step processes: a non-dumpable worker, a separate step user, and
work directories handed over to that user without giving it the engine's own files."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import pwd
import shutil
import stat
import sys
from pathlib import Path

from workflows.steps.base import StepUser

logger = logging.getLogger(__name__)

PR_SET_DUMPABLE = 4
# Directories of this name hold what the engine writes for a step (scripts, output files, results):
# they stay the worker's, so a step can fill its output file but never swap it for a symlink.
ENGINE_DIR = ".innominatus"
# Supervisor locks and result files: not even readable by the step user.
RUNS_DIR = "runs"


def protect_worker_process() -> bool:
    """Make this process non-dumpable: other processes of the same user can no longer read its memory or
    environment through /proc (nor attach a debugger), and it leaves no core dump. Linux only."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        logger.warning("could not make the worker non-dumpable", extra={"errno": ctypes.get_errno()})
        return False
    return True


def resolve_step_user(setting: str) -> StepUser | None:
    """Who step processes run as: STEP_RUN_AS_USER (a user name or uid), by default `nobody` when the
    worker runs as root and the worker's own user otherwise (None). ValueError when it cannot be used."""
    euid = os.geteuid()
    name = setting.strip()
    if not name:
        if euid != 0:
            return None
        name = "nobody"
    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"STEP_RUN_AS_USER={name!r}: no such user") from exc
    if entry.pw_uid == 0:
        raise ValueError("STEP_RUN_AS_USER must not be root: a root step process could read the worker")
    if entry.pw_uid == euid:
        return None
    if euid != 0:
        raise ValueError(
            f"STEP_RUN_AS_USER={name!r}: only a worker running as root can run steps as another user"
        )
    return StepUser(uid=entry.pw_uid, gid=entry.pw_gid, name=entry.pw_name)


def private_dir(path: Path, mode: int = 0o755) -> Path:
    """`path` as a real directory owned by this process's user (parents created as needed). Whatever a
    step process put there instead (a symlink, its own directory) is removed first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        info = path.lstat()
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
            path.chmod(mode)
            return path
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(path)
        else:
            path.unlink()
    path.mkdir(mode=mode)
    path.chmod(mode)  # mkdir's mode is filtered by the umask
    return path


def hand_over(workdir: Path, user: StepUser) -> None:
    """Give the step user the work directory tree: its files and directories, except the engine's own
    directories (the files in them are handed over, the directories not) and the supervisors' run
    directories (nothing in them). Symlinks are never followed."""
    check_reachable(workdir, user)
    _chown(workdir, user)
    for root, dirs, files in os.walk(workdir):
        here = Path(root)
        engine = ENGINE_DIR in here.relative_to(workdir).parts
        if engine and here.name == ENGINE_DIR and RUNS_DIR in dirs:
            dirs.remove(RUNS_DIR)
        for name in dirs:
            if not engine and name != ENGINE_DIR:
                _chown(here / name, user)
        for name in files:
            _chown(here / name, user)


def _chown(path: Path, user: StepUser) -> None:
    # A path may be removed meanwhile by the step that owns the tree.
    with contextlib.suppress(FileNotFoundError):
        info = path.lstat()
        if (info.st_uid, info.st_gid) != (user.uid, user.gid):
            os.chown(path, user.uid, user.gid, follow_symlinks=False)


def check_reachable(workdir: Path, user: StepUser) -> None:
    """OSError naming the first directory above `workdir` the step user may not enter."""
    for parent in reversed(workdir.resolve().parents):
        info = parent.stat()
        mode = info.st_mode
        allowed = (
            mode & stat.S_IXOTH
            or (info.st_uid == user.uid and mode & stat.S_IXUSR)
            or (info.st_gid == user.gid and mode & stat.S_IXGRP)
        )
        if not allowed:
            raise OSError(
                errno.EACCES,
                f"the work directory {workdir} is out of reach of the step user {user.name} "
                f"(uid {user.uid}): {parent} has mode {stat.filemode(mode)}; set STEP_WORK_ROOT to a "
                "directory every user may enter",
            )
