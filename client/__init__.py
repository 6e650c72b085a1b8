"""fal-mock reference client package."""
