"""Rasa input channels of Toolkit Advisor.

- :mod:`channels.rest` - Rasa's REST channel with request checks: a malformed
  request gets a 4xx with a reason, never a 500;
- :mod:`channels.webchat` - socket.io for the project's own chat page, which the
  same Rasa server serves, so that page and socket share one origin;
- :mod:`channels.slack` - Slack's Events API and interactivity, configured from
  environment variables so that a machine without Slack secrets still starts.

All are thin subclasses of Rasa's own connectors: the protocol handling stays
Rasa's, and only what this assistant needs differently is overridden.
"""
