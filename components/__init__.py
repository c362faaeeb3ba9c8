"""Custom Rasa NLU components (thin adapters over the plain code in ``advisor``)."""
