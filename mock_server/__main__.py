"""``python -m fal_mock.mock_server`` — the same as the ``fal-mock`` command."""

import sys

from .cli import main

sys.exit(main())
