"""Build the project's own small spaCy pipeline from the catalogue.

Rasa's ``SpacyNLP`` needs a spaCy pipeline on disk. Downloading
``en_core_web_md`` (hundreds of MB, and no internet here) would buy word
vectors this assistant does not use, so the project builds its own:

* ``spacy.blank("en")`` - the English tokenizer;
* ``lemmatizer`` in lookup mode, tables from ``spacy-lookups-data``;
* ``entity_ruler`` with one pattern per toolkit name/alias (label
  ``toolkit``) and tool name/alias (label ``tool``), each carrying the
  catalogue id, so "data engineers", "Front-End" and "k8s" resolve to ids.

Adding an alias to the catalogue and rebuilding (``make train`` does) makes it
recognisable; no code changes.

Run as ``python -m advisor.spacy_pipeline OUTPUT_DIR``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Iterable

from advisor.catalogue import Catalogue, CatalogueError, get_catalogue, load_catalogue

PIPELINE_NAME = "toolkit_advisor_en"
DEFAULT_OUTPUT = Path("build/spacy_pipeline")


def blank_english() -> Any:
    """Blank English with the lookup lemmatizer, ready to use."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def _spellings(name: str) -> list[str]:
    """ "front end" is also written "front-end" and "frontend"."""
    low = " ".join(name.lower().split())
    variants = {low, low.replace("-", " ")}
    if " " in low:
        variants.add(low.replace(" ", "-"))
        variants.add(low.replace(" ", ""))
    return sorted(variants)


def _token_pattern(nlp: Any, spelling: str) -> list[dict[str, Any]]:
    words = [t.text for t in nlp.make_doc(spelling)]
    pattern: list[dict[str, Any]] = [{"LOWER": w} for w in words[:-1]]
    last = words[-1]
    plural = {last, last + "s"} if last[-1:].isalpha() and not last.endswith("s") else {last}
    pattern.append({"LOWER": {"IN": sorted(plural)}} if len(plural) > 1 else {"LOWER": last})
    return pattern


def entity_patterns(catalogue: Catalogue, nlp: Any) -> list[dict[str, Any]]:
    """Entity-ruler patterns for every toolkit and tool name in the catalogue."""
    named: Iterable[tuple[str, str, tuple[str, ...]]] = [
        *(("toolkit", t.id, t.names) for t in catalogue.toolkits),
        *(("tool", t.id, t.names) for t in catalogue.tools),
    ]
    patterns = []
    seen = set()
    for label, ident, names in named:
        for name in names:
            for spelling in _spellings(name):
                key = (label, spelling)
                if key in seen:
                    continue
                seen.add(key)
                patterns.append({"label": label, "id": ident, "pattern": _token_pattern(nlp, spelling)})
    return patterns


def build(catalogue: Catalogue) -> Any:
    """The pipeline for ``catalogue``, in memory."""
    nlp = blank_english()
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(entity_patterns(catalogue, nlp))
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = f"Toolkit Advisor pipeline for catalogue {catalogue.version}"
    nlp.meta["catalogue_version"] = catalogue.version
    return nlp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Toolkit Advisor spaCy pipeline.")
    parser.add_argument("output", nargs="?", default=str(DEFAULT_OUTPUT))
    parser.add_argument("--catalogue", help="catalogue directory (default: ./catalogue)")
    args = parser.parse_args(argv)
    try:
        catalogue = load_catalogue(args.catalogue) if args.catalogue else get_catalogue()
    except CatalogueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    nlp = build(catalogue)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    print(f"spaCy pipeline written to {output} ({len(nlp.get_pipe('entity_ruler'))} entity patterns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
