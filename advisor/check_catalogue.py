"""``make check-catalogue``: validate the catalogue and summarise it.

The same validation runs when the action server starts; this command lets
an editor check a change without starting anything. Exit status 1 and a
message naming the file, the entry and the problem when something is wrong.
"""

from __future__ import annotations

import sys

from advisor.catalogue import CatalogueError, catalogue_dir, load_catalogue


def main() -> int:
    try:
        catalogue = load_catalogue(catalogue_dir())
    except CatalogueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"catalogue {catalogue.version} ({catalogue_dir()}) is valid:")
    print(f"  {len(catalogue.toolkits)} toolkits: " + ", ".join(t.id for t in catalogue.toolkits))
    print(f"  {len(catalogue.questions)} questions, in order: " + " -> ".join(q.id for q in catalogue.questions))
    print(f"  fallback: {catalogue.fallback.toolkit}; {len(catalogue.tools)} tools")
    return 0


if __name__ == "__main__":
    sys.exit(main())
