"""``python3 -m overlap_clip_plugin BATCH_FILE``: the batch command (see overlap_clip_plugin.cli)."""

import sys

from overlap_clip_plugin.cli import main

sys.exit(main())
