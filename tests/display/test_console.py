"""When the reader of standard output leaves (`... | head -1`), what tinynet prints through rich
ends quietly with status 141 (128 + SIGPIPE, as `head` expects), not rich's status 1 nor a
"[Errno 32] Broken pipe" message."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("code", [
    "from tinynet.display.console import get_console\nfor i in range(2000):\n"
    "    get_console().print('x' * 70)",
    "from tinynet.cli import main\nraise SystemExit(main(['--help']))",
])
def test_a_reader_that_left_ends_the_output_quietly(code):
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader left before anything was written
    status = process.wait(timeout=60)
    err = process.stderr.read().decode()
    process.stderr.close()
    assert (status, err) == (141, ""), (status, err)
