"""Rasa NLU component: preferences, stance and catalogue ids from free text.

Runs after ``SpacyEntityExtractor`` and, on the same spaCy pipeline (the
project's own, built from the catalogue):

* rewrites the ``toolkit`` / ``tool`` entities that ``SpacyEntityExtractor``
  found from the words typed ("data engineers") to catalogue ids
  ("data_engineer"), using the id the entity ruler attached to each match;
* adds a ``preference`` entity per topic the person likes or dislikes
  (value: question id, role: ``yes`` / ``no`` / ``unsure``, ``said``: the
  clause it came from) and a ``stance`` entity for a bare yes / no / unsure.

Entities carry ``extractor: PreferenceExtractor``; the actions trust only
those, so typing ``/share_preference{"preference": ...}`` records nothing.
The reading itself lives in :mod:`advisor.preferences`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from advisor.preferences import Reading
from components.reader import reader_for

CATALOGUE_LABELS = ("toolkit", "tool")
READING = "toolkit_advisor_reading"  # the Reading, left on the message for IntentRefiner


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    is_trainable=False,
    model_from="SpacyNLP",
)
class PreferenceExtractor(GraphComponent, EntityExtractorMixin):
    """Reads likes, dislikes and yes/no/unsure from a message."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    @staticmethod
    def required_packages() -> List[str]:
        return ["spacy"]

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        self._config = config
        self._name = name

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PreferenceExtractor:
        return cls(config, execution_context.node_name)

    @property
    def name(self) -> str:
        return "PreferenceExtractor"

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        reader = reader_for(model)
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.strip():
                continue
            reading = reader.read(text)
            entities = message.get(ENTITIES, [])
            if any(self._needs_id(e) for e in entities):  # parsing again only when there is an id to find
                doc = model.model(text)
                entities = [self._with_id(e, doc) if self._needs_id(e) else e for e in entities]
            else:
                entities = list(entities)
            entities += self._preference_entities(reading, text)
            message.set(ENTITIES, entities, add_to_output=True)
            message.set(READING, reading)
        return messages

    @staticmethod
    def _needs_id(entity: Dict[str, Any]) -> bool:
        """A toolkit/tool entity found by SpacyEntityExtractor (whose value is the text, not the id)."""
        return entity.get("entity") in CATALOGUE_LABELS and entity.get("extractor") == "SpacyEntityExtractor"

    @staticmethod
    def _with_id(entity: Dict[str, Any], doc: Any) -> Dict[str, Any]:
        """Catalogue id for a toolkit/tool entity found by SpacyEntityExtractor."""
        for ent in doc.ents:
            if ent.start_char == entity.get("start") and ent.end_char == entity.get("end") and ent.ent_id_:
                return {**entity, "value": ent.ent_id_, "processors": ["PreferenceExtractor"]}
        return entity

    def _preference_entities(self, reading: Reading, text: str) -> List[Dict[str, Any]]:
        entities = []
        for pref in reading.preferences:
            role = "unsure" if pref.value is None else ("yes" if pref.value else "no")
            entities.append(
                {
                    "entity": "preference",
                    "value": pref.question_id,
                    "role": role,
                    "start": pref.start,
                    "end": pref.end,
                    "said": pref.said,
                    "explicit": pref.explicit,
                    "in_question": pref.in_question,
                    "weak": pref.weak,
                    "confidence_entity": 1.0,
                }
            )
        if "revision" in reading.signals:
            entities.append({"entity": "revision", "value": "yes", "start": 0, "end": len(text), "confidence_entity": 1.0})
        if reading.stance is not None:
            entities.append(
                {
                    "entity": "stance",
                    "value": reading.stance,
                    "start": text.find(reading.stance_said) if reading.stance_said else 0,
                    "end": (text.find(reading.stance_said) + len(reading.stance_said)) if reading.stance_said else len(text),
                    "said": reading.stance_said,
                    # A bare "no," opening the message or a concluding "so no": it decides
                    # the question asked over a reading of the words around it.
                    "answer_word": "answer_word" in reading.signals,
                    "confidence_entity": 1.0,
                }
            )
        return self.add_extractor_name(entities)
