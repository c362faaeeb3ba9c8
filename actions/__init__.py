"""Rasa custom actions for Toolkit Advisor.

Each module holds the thin ``Action`` classes for one concern; the logic they
call lives in the plain ``advisor`` package. Importing this package has no
side effects: the catalogue is loaded (and validated) when the action server
starts (``python -m actions``) or on first use.
"""
