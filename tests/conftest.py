import os
import sys

from threadpoolctl import threadpool_limits

# Test files are imported with --import-mode=importlib (no __init__.py in the test folders, so
# same-named files in two folders do not collide and no folder shadows a real package such as
# sklearn). The shared helpers are imported as `helpers.<module>` from this folder, appended so
# that an installed package always wins over a test folder of the same name.
sys.path.append(os.path.dirname(__file__))
os.environ.setdefault("COLUMNS", "120")
# The tests multiply small matrices: one BLAS thread is fastest for them, and keeps the
# suite's time steady when the machine is busy (two threads on two loaded cores crawl).
threadpool_limits(1)

# Property tests draw the same examples on every run: a red CI run is reproducible, never luck.
from hypothesis import settings  # noqa: E402

settings.register_profile("tinynet", derandomize=True, deadline=None)
settings.load_profile("tinynet")
