"""The webhook dispatcher's domain errors (the edge answers them: 404 and 409)."""

from __future__ import annotations

from ..jobs.errors import DomainError


class DeliveryNotFound(DomainError, LookupError):
    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"webhook delivery {delivery_id!r} not found")
        self.delivery_id = delivery_id


class DeliveryStateError(DomainError, ValueError):
    """The operation does not apply to the delivery in its current state."""
