"""Print the fault suite's results as the README's "What we tested" table.

    python -m tests.faults.report FILE

FILE holds one JSON ScenarioResult per line, written by the fault scenarios (`make faults`
points FAULTS_REPORT at it). A scenario that ran more than once shows its last run. The
exit status is 1 when an order was lost, a final state was wrong, or something was sent
twice beyond the duplicates the scenario declared (each shown with its reason).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HEADER = ("scenario", "events or requests sent", "faults injected", "orders lost",
          "duplicates sent", "final state correct")
# The order of scenario families (test modules); others follow in run order.
FAMILIES = ("duplicate_delivery", "out_of_order", "lost_webhooks", "broker_down",
            "redis_silent", "worker_killed", "smtp_down", "partner_failures",
            "stripe_checkout_failures", "database_restart", "embedded_default")


def load(path: Path) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.pop(row["name"], None)  # a rerun moves to where it ran last
            rows[row["name"]] = row
    def family(row: dict[str, Any]) -> int:
        name = row.get("family", "")
        return FAMILIES.index(name) if name in FAMILIES else len(FAMILIES)

    return sorted(rows.values(), key=family)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    for row in rows:
        correct = "yes" if row["correct"] else "NO: " + "; ".join(row.get("failed_checks", []))
        duplicates = str(row["duplicates"])
        if row["duplicates"] and row.get("why_duplicates"):
            duplicates += f" ({row['why_duplicates']})"
        cells = (row["name"], row["sent"], row["faults"], row["lost"], duplicates, correct)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.faults.report FILE", file=sys.stderr)
        return 2
    path = Path(argv[0])
    if not path.exists():
        print(f"no fault results in {path}: did the scenarios run?", file=sys.stderr)
        return 1
    rows = load(path)
    print(table(rows))
    bad = [r["name"] for r in rows if r["lost"] or not r["correct"]
           or r["duplicates"] > r.get("expected_duplicates", 0)]
    return 1 if bad or not rows else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
