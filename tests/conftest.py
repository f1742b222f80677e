import os
import sys

from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("COLUMNS", "120")
# The tests multiply small matrices: one BLAS thread is fastest for them, and keeps the
# suite's time steady when the machine is busy (two threads on two loaded cores crawl).
threadpool_limits(1)

# Property tests draw the same examples on every run: a red CI run is reproducible, never luck.
from hypothesis import settings  # noqa: E402

settings.register_profile("tinynet", derandomize=True, deadline=None)
settings.load_profile("tinynet")
