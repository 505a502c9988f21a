"""Print the mutation score of a `mutmut run` (``make mutants``).

    python tests/mutation_score.py [mutants/mutmut-cicd-stats.json]

Score = (killed + timeout) / (total - skipped), the definition mutmut's own badge uses.
"""
import json
import sys
from pathlib import Path


def score(stats: dict) -> float:
    tested = int(stats.get("total", 0)) - int(stats.get("skipped", 0))
    if tested <= 0:
        raise ValueError(f"no mutant was tested: {stats}")
    return 100.0 * (int(stats.get("killed", 0)) + int(stats.get("timeout", 0))) / tested


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0] if argv else "mutants/mutmut-cicd-stats.json")
    stats = json.loads(path.read_text())
    counts = ", ".join(f"{k} {v}" for k, v in stats.items() if isinstance(v, int))
    print(f"mutation score {score(stats):.1f}% ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
