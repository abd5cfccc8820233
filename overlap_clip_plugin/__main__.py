"""``python3 -m overlap_clip_plugin BATCH_FILE``: the batch command (see overlap_clip_plugin.core.batch)."""

import sys

from overlap_clip_plugin.core.batch import main

sys.exit(main())
