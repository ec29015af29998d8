"""Request parameters and small helpers shared by the emulator tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

WEBHOOK_SECRET = "whsec_test_emulator_secret"


@dataclass
class Receiver:
    """A tiny webhook endpoint recording raw bodies and signatures."""

    url: str = ""
    received: list[tuple[bytes, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    paths: list[str] = field(default_factory=list)  # the path each delivery was posted to
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[bytes, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self.lock:
            raise AssertionError(f"expected {count} deliveries, got {len(self.received)}")

    def to(self, path: str) -> list[tuple[bytes, str]]:
        """The deliveries posted to URLs ending in `path`."""
        with self.lock:
            return [got for got, where in zip(self.received, self.paths, strict=True)
                    if where.endswith(path)]


def payment_params(**overrides: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "usd", "unit_amount": 2500,
                            "product_data": {"name": "Care package",
                                             "metadata": {"sku": "winter"}}},
             "quantity": 2},
            {"price_data": {"currency": "usd", "unit_amount": 1500,
                            "product_data": {"name": "Donation"}},
             "quantity": 1},
        ],
        "success_url": "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cancel",
        "client_reference_id": "order_1042",
        "metadata": {"order_id": "1042", "kind": "care_package"},
        "payment_intent_data": {"metadata": {"order_id": "1042"}},
        "submit_type": "donate",
    }
    params.update(overrides)
    return params


def subscription_params(**overrides: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 1000,
                                       "product_data": {"name": "Monthly donation"},
                                       "recurring": {"interval": "month"}},
                        "quantity": 1}],
        "success_url": "https://shop.example/donate/thanks?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/donate",
        "metadata": {"donor_ref": "donor_77"},
        "subscription_data": {"metadata": {"donor_ref": "donor_77"}},
    }
    params.update(overrides)
    return params
