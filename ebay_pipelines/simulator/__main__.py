"""``python -m ebay_pipelines.simulator --port 8765 --seed 7``."""

import sys

from .standalone import main

sys.exit(main())
