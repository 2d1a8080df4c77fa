"""CI: the main job's report is complete (Table VIII and Appendix A filled, see-saw and certify).

python .ci/check_report.py results/report/report.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NOT_FILLED = ("Our see-saw results are not available yet",
              "Our Appendix A see-saw distances are not available yet",
              "Our certify run is not available",
              "Our certified Appendix A is not available")


def main(path: str) -> int:
    report = Path(path)
    if not report.is_file():
        print(f"check_report: no report at {report}", file=sys.stderr)
        return 1
    text = report.read_text()
    problems = [f"report says: {phrase!r}" for phrase in NOT_FILLED if phrase in text]
    summary = report.with_name("report.json")
    if summary.is_file():
        missing = json.loads(summary.read_text()).get("missing", [])
        problems += [f"missing input: {m}" for m in missing]
    for problem in problems:
        print(f"check_report: {problem}", file=sys.stderr)
    if not problems:
        print(f"check_report: {report} is complete (Table VIII, Appendix A: see-saw, certify)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "results/report/report.md"))
