"""The contract self-check: a JSON body the mock sends is validated against its contract before it leaves.

With ``Settings.check_contracts`` on (the test suite turns it on), a body that breaks the contract
it must satisfy (``contracts/``: queue envelopes, errors, webhook deliveries, an endpoint's output)
raises :class:`ContractSelfCheckFailed` naming it — a bug in the mock, never the client's fault;
the edge answers it with a 500.
"""

from __future__ import annotations

from typing import Any

from fal_mock import contracts


class ContractSelfCheckFailed(Exception):
    """A response of the mock broke its own contract (only raised with ``check_contracts``)."""

    def __init__(self, contract: str, problems: list[str]) -> None:
        super().__init__(f"fal-mock response violates contract {contract!r}: {'; '.join(problems[:5])}")
        self.contract = contract
        self.problems = problems


def check_contract(enabled: bool, contract: str | None, body: Any) -> None:
    if not enabled or contract is None:
        return
    try:
        contracts.validate(contract, body)
    except contracts.ContractViolation as violation:
        raise ContractSelfCheckFailed(contract, list(violation.errors)) from None
