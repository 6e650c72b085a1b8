"""``python -m fal_mock`` — the ``fal-mock`` command (the same CLI, the same exit codes)."""

import sys

from fal_mock.mock_server.cli import main

sys.exit(main())
