"""Start the action server after validating the catalogue.

``python -m actions [rasa_sdk options]`` loads and validates the catalogue
first, so a broken catalogue stops the server at once with a message naming
the file, the entry and the problem, instead of failing later in a
conversation. Then it runs the standard ``rasa_sdk`` endpoint for this package.
"""

from __future__ import annotations

import sys

from advisor.catalogue import CatalogueError, catalogue_dir, get_catalogue


def main(argv: list[str] | None = None) -> int:
    try:
        catalogue = get_catalogue()
    except CatalogueError as err:
        print(f"error: the catalogue is broken, the action server will not start.\n  {err}", file=sys.stderr)
        return 2
    print(
        f"Catalogue {catalogue.version} from {catalogue_dir()}: {len(catalogue.toolkits)} toolkits, "
        f"{len(catalogue.questions)} questions, {len(catalogue.tools)} tools.",
        flush=True,
    )
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser

    args = create_argument_parser().parse_args(["--actions", "actions", *(argv if argv is not None else sys.argv[1:])])
    main_from_args(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
