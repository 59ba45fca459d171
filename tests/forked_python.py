"""Fresh Python interpreters that have torch imported already, as the build's are.

A reader who runs `python snippets/x.py`, or pastes a page into `python`, starts an
interpreter and imports torch: about 2 s of CPU on the machines that run these tests,
more than most snippets take. `TorchReadyPython` starts one interpreter (`python -X utf8`)
that imports torch and then forks a child for every program it is given; the child runs
it as `python` would (`__main__`, `sys.argv`, `sys.path[0]`, the working directory,
standard input and output), and exits. What the program changes dies with the child.
Where there is no fork (Windows), each program gets a new interpreter instead.

Whatever importing torch wrote to standard error (e.g. torch's "Failed to initialize
NumPy") is part of every child's standard error, as it would be in a new interpreter.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The server: import torch with fd 2 captured, then fork a child per request line.
SERVER = r"""
import json, os, runpy, signal, sys, tempfile, traceback, types

with tempfile.TemporaryFile() as capture:
    saved = os.dup(2)
    os.dup2(capture.fileno(), 2)
    try:
        import torch
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
    capture.seek(0)
    import_stderr = capture.read()

requests, replies = sys.stdin, sys.__stdout__
for line in requests:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        signal.alarm(request["timeout"])  # a program that hangs dies of SIGALRM
        try:
            os.chdir(request["cwd"])
            for fd, name, mode in ((0, "stdin", os.O_RDONLY), (1, "stdout", os.O_WRONLY), (2, "stderr", os.O_WRONLY)):
                os.dup2(os.open(request[name], mode), fd)
            sys.stdin = open(0, encoding="utf-8", closefd=False)
            os.write(2, import_stderr)
            argv = request["argv"]
            if argv[0] == "-c":
                sys.argv, sys.path[0] = ["-c", *argv[2:]], ""
                main = types.ModuleType("__main__")
                main.__builtins__ = __builtins__
                sys.modules["__main__"] = main
                exec(compile(argv[1], "<string>", "exec"), main.__dict__)
            else:
                sys.argv = argv
                sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
                runpy.run_path(argv[0], run_name="__main__")
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (exit.code is not None)
            if not isinstance(exit.code, (int, type(None))):
                print(exit.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    replies.write(json.dumps(os.waitstatus_to_exitcode(status)) + "\n")
    replies.flush()
"""


class TorchReadyPython:
    """`run(argv, cwd, input)` is `subprocess.run([sys.executable, "-X", "utf8", *argv], ...)`
    without the cost of starting Python and importing torch each time. A program still
    running after `timeout` seconds is killed (return code -14, SIGALRM)."""

    def __init__(self):
        self.server = None
        if hasattr(os, "fork"):
            self.server = subprocess.Popen(
                [sys.executable, "-X", "utf8", "-c", SERVER],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )

    def run(self, argv, cwd, input="", timeout=300):
        if self.server is None:  # pragma: no cover (no fork: Windows)
            return subprocess.run([sys.executable, "-X", "utf8", *argv], cwd=cwd, input=input,
                                  capture_output=True, text=True, encoding="utf-8", timeout=timeout)
        with tempfile.TemporaryDirectory(prefix="forked-python-") as folder:
            files = {name: Path(folder) / name for name in ("stdin", "stdout", "stderr")}
            files["stdin"].write_text(input, encoding="utf-8")
            for name in ("stdout", "stderr"):
                files[name].touch()
            request = {"argv": list(argv), "cwd": str(cwd), "timeout": timeout} | {k: str(v) for k, v in files.items()}
            self.server.stdin.write(json.dumps(request) + "\n")
            self.server.stdin.flush()
            reply = self.server.stdout.readline()
            if not reply:
                raise RuntimeError("the interpreter that forks the programs has died")
            return subprocess.CompletedProcess(
                [sys.executable, *argv], json.loads(reply),
                files["stdout"].read_text(encoding="utf-8"), files["stderr"].read_text(encoding="utf-8"),
            )

    def close(self):
        if self.server is not None:
            self.server.stdin.close()
            self.server.wait()
